"""Scoring: turning harmonised indicator values into threat scores and regional priorities.

``engine`` is a general composite-indicator engine (COINr-style: denominate, normalise,
aggregate, rank) on pandas DataFrames; ``methodology`` loads and validates the versioned
methodology file that holds every number the scoring uses; ``threat`` scores one
assessment cycle with them. Modules are imported explicitly; nothing heavy loads here.
"""
