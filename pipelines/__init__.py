"""Prefect flows and tasks: thin wrappers over ``ideal``. Only this package imports prefect."""
