"""ideal: regional threat assessment of transnational organised crime.

The package holds the domain logic as plain typed functions: intake and validation,
the DuckDB warehouse, scoring and the report. Importing it is cheap; heavy modules
(prefect, great_expectations, altair) are imported only where they are used.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ideal")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
