"""Scoring: turning harmonised indicator values into threat scores and regional priorities.

``engine`` is a general composite-indicator engine (COINr-style: denominate, impute,
treat, normalise, aggregate, rank) on pandas DataFrames; ``spec`` is the method file of
``ideal index`` and applies it; ``uncertainty`` is the vectorised Monte Carlo of ranks;
``methodology`` loads and validates the versioned CLASI methodology file that holds every
number the threat scoring uses; ``threat`` scores one assessment cycle with them, and
``threat_uncertainty`` runs the Monte Carlo of its priority ranking. Modules are imported
explicitly; nothing heavy loads here.
"""
