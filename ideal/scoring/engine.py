"""A general composite-indicator engine in the style of the EU JRC's COINr.

What belongs here: the index-building maths that knows nothing about threats, countries
or cycles (the hierarchy table, denomination, imputation, outlier treatment,
normalisation, aggregation up the tree with means or Copeland, effective weights,
ranking). Every function is pure: it takes pandas DataFrames and returns new ones. The
method file of ``ideal index`` is applied in ``spec``; the Monte Carlo of the ranks is in
``uncertainty``.

Conventions (as in COINr):

* ``data`` ("iData") has one row per unit (the index holds unit codes) and one column per
  indicator, plus any denominator columns.
* ``meta`` ("iMeta") has one row per element of the index: columns ``iCode, Level,
  Parent, Direction, Weight`` and optionally ``Denominator`` and ``Type``. Level 1 rows
  are indicators; each element's ``Parent`` is an element one level up; rows without a
  parent are roots and must sit at the top level. Rows whose ``Type`` is ``Group``,
  ``Denominator`` or ``Other`` describe iData columns that are not part of the tree and
  are ignored here.
* Directions are applied before normalisation by multiplying by -1; weights are relative
  within each parent; missing values stay missing (``NaN``) and the arithmetic mean
  re-weights over the children that are present.

Loops run over levels, methods or the (small) metadata table, never over units: the
per-unit maths is numpy on whole arrays.
"""

from __future__ import annotations

import functools
import logging
import math
import typing
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
NormalisationMethod = Literal["minmax", "zscore", "rank", "prank", "goalposts", "dist2targ"]
AggregationMethod = Literal["arithmetic", "geometric", "harmonic", "generalised", "copeland"]
ZeroRange = Literal["nan", "midpoint"]
TreatmentMethod = Literal["coinr_default", "none"]
LogTransform = Literal["log_CT", "log_CT_plus"]

REQUIRED_META_COLUMNS: tuple[str, ...] = ("iCode", "Level", "Parent", "Direction", "Weight")
STRUCTURAL_TYPES: tuple[str, ...] = ("Indicator", "Aggregate")
NON_STRUCTURAL_TYPES: tuple[str, ...] = ("Group", "Denominator", "Other")

# Coverage shares are ratios of small integers (1/3, 2/3 ...); compare with a tolerance
# so that "at least 1 of 3" written as 1/3 is met by exactly one child present.
_COVERAGE_TOL = 1e-9
_MAX_LISTED = 5


class HierarchyError(ValueError):
    """The iMeta table does not describe a valid tree; the message says which row to fix."""


# --------------------------------------------------------------------------------------
# Hierarchy
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hierarchy:
    """A validated index tree. Build it with :func:`validate_meta`.

    ``table`` has one row per element (index ``iCode``, in iMeta order) and the columns
    ``Level`` (int), ``Parent`` (str or None), ``Direction`` (+1/-1), ``Weight`` (float
    >= 0) and ``Denominator`` (str or None).
    """

    table: pd.DataFrame

    @property
    def n_levels(self) -> int:
        return int(self.table["Level"].max())

    @property
    def indicators(self) -> list[str]:
        return self.codes_at(1)

    @property
    def aggregates(self) -> list[str]:
        return [str(c) for c in self.table.index[self.table["Level"] > 1]]

    @property
    def roots(self) -> list[str]:
        return [str(c) for c in self.table.index[self.table["Parent"].isna()]]

    def codes_at(self, level: int) -> list[str]:
        # Memoised: the table is frozen, and the Monte Carlo asks thousands of times.
        cache: dict[int, list[str]] = self.__dict__.setdefault("_codes_at", {})
        if level not in cache:
            cache[level] = [str(c) for c in self.table.index[self.table["Level"] == level]]
        return list(cache[level])

    def children_of(self, code: str) -> list[str]:
        return [str(c) for c in self.table.index[self.table["Parent"] == code]]

    def directions(self, codes: Sequence[str]) -> FloatArray:
        return self.table.loc[list(codes), "Direction"].to_numpy(dtype=np.float64)

    def weight_matrix(self, level: int) -> tuple[list[str], list[str], FloatArray]:
        """Children (level - 1), parents (level) and W[child, parent] = child's weight."""
        children = self.codes_at(level - 1)
        parents = self.codes_at(level)
        position = {p: j for j, p in enumerate(parents)}
        w = np.zeros((len(children), len(parents)), dtype=np.float64)
        sub = self.table.loc[children]
        rows = np.arange(len(children))
        cols = np.array([position[str(p)] for p in sub["Parent"]], dtype=np.intp)
        w[rows, cols] = sub["Weight"].to_numpy(dtype=np.float64)
        return children, parents, w

    def structure_matrix(self, level: int) -> FloatArray:
        """S[child, parent] = 1 where the child belongs to the parent (weights ignored)."""
        children = self.codes_at(level - 1)
        parents = self.codes_at(level)
        parent_of = self.table.loc[children, "Parent"].to_numpy()
        member = parent_of[:, None] == np.array(parents, dtype=object)[None, :]
        return np.asarray(member, dtype=np.float64)


def _blank(value: object) -> bool:
    """True for NaN/None/NA and for empty strings (CSV exports write either)."""
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and value.strip() in ("", "NA")


def _listed(items: Sequence[object]) -> str:
    shown = ", ".join(str(i) for i in items[:_MAX_LISTED])
    more = len(items) - _MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def validate_meta(meta: pd.DataFrame) -> Hierarchy:
    """Check an iMeta table and return the tree it describes.

    Raises :class:`HierarchyError` naming the offending rows when a column is missing, a
    code is blank or repeated, a level is not a positive integer, a direction is not
    +1/-1, a weight is negative, a parent does not exist or is not exactly one level up,
    the parents form a cycle, a non-top element has no parent (orphan) or an aggregate
    has no children.
    """
    missing = [c for c in REQUIRED_META_COLUMNS if c not in meta.columns]
    if missing:
        raise HierarchyError(
            f"iMeta lacks the column(s) {missing}. It needs {list(REQUIRED_META_COLUMNS)} "
            "(and optionally Denominator and Type)."
        )
    rows = meta
    if "Type" in meta.columns:
        types = meta["Type"]
        blank_type = [str(c) for c, t in zip(meta["iCode"], types, strict=True) if _blank(t)]
        if blank_type:
            raise HierarchyError(
                f"iMeta rows {_listed(blank_type)} have no Type; give every row one of "
                f"{list(STRUCTURAL_TYPES + NON_STRUCTURAL_TYPES)} or drop the Type column."
            )
        unknown = sorted(set(types.astype(str)) - set(STRUCTURAL_TYPES + NON_STRUCTURAL_TYPES))
        if unknown:
            raise HierarchyError(
                f"iMeta has unknown Type value(s) {unknown}; use one of "
                f"{list(STRUCTURAL_TYPES + NON_STRUCTURAL_TYPES)}."
            )
        rows = meta[types.astype(str).isin(STRUCTURAL_TYPES)]
    if rows.empty:
        raise HierarchyError("iMeta has no indicator or aggregate rows.")

    codes = [None if _blank(c) else str(c).strip() for c in rows["iCode"]]
    if any(c is None for c in codes):
        raise HierarchyError("iMeta has rows with a blank iCode; give every row a code.")
    code_list = [str(c) for c in codes]
    dupes = sorted({c for c in code_list if code_list.count(c) > 1})
    if dupes:
        raise HierarchyError(f"iMeta repeats the iCode(s) {dupes}; codes must be unique.")

    level_num = pd.to_numeric(rows["Level"], errors="coerce").to_numpy(dtype=np.float64)
    bad_level = [
        c
        for c, lv in zip(code_list, level_num, strict=True)
        if not np.isfinite(lv) or lv < 1 or lv != np.floor(lv)
    ]
    if bad_level:
        raise HierarchyError(
            f"iMeta rows {_listed(bad_level)} have a Level that is not an integer >= 1 "
            "(1 = indicator, 2 = first aggregation level, ...)."
        )
    levels = level_num.astype(int)

    if "Type" in rows.columns:
        row_types = rows["Type"].astype(str).to_numpy()
        wrong = [
            f"{c} ({t}, Level {lv})"
            for c, t, lv in zip(code_list, row_types, levels, strict=True)
            if (t == "Indicator") != (lv == 1)
        ]
        if wrong:
            raise HierarchyError(
                f"iMeta rows {_listed(wrong)}: indicators must be at Level 1 and aggregates "
                "at Level 2 or above."
            )

    parents = [None if _blank(p) else str(p).strip() for p in rows["Parent"]]
    parent_of = dict(zip(code_list, parents, strict=True))
    level_of = dict(zip(code_list, levels.tolist(), strict=True))

    # Cycles first, so that a loop is reported as a loop rather than as a level mismatch.
    for start in code_list:
        seen = [start]
        node = parent_of[start]
        while node is not None and node in parent_of:
            if node in seen:
                loop = " -> ".join([*seen[seen.index(node) :], node])
                raise HierarchyError(f"iMeta parents form a cycle: {loop}. A tree has none.")
            seen.append(node)
            node = parent_of[node]

    non_structural = set()
    if "Type" in meta.columns:
        non_structural = {str(c) for c in meta.loc[~meta.index.isin(rows.index), "iCode"]}
    unknown_parent = [
        f"{c} -> {p}" for c, p in parent_of.items() if p is not None and p not in parent_of
    ]
    if unknown_parent:
        hint = (
            " (some are Group/Denominator rows, which cannot be parents)"
            if any(p in non_structural for p in parents if p is not None)
            else ""
        )
        raise HierarchyError(
            f"iMeta rows name a Parent that is not an element of the tree{hint}: "
            f"{_listed(unknown_parent)}. Add the parent row or correct the Parent."
        )
    off_level = [
        f"{c} (Level {level_of[c]}) -> {p} (Level {level_of[p]})"
        for c, p in parent_of.items()
        if p is not None and level_of[p] != level_of[c] + 1
    ]
    if off_level:
        raise HierarchyError(
            f"iMeta rows {_listed(off_level)}: a Parent must be exactly one Level above its child."
        )
    top = int(levels.max())
    orphans = [
        f"{c} (Level {level_of[c]})"
        for c, p in parent_of.items()
        if p is None and level_of[c] < top
    ]
    if orphans:
        raise HierarchyError(
            f"iMeta rows {_listed(orphans)} have no Parent but are below the top Level "
            f"({top}); give them a Parent (only top-level elements may be roots)."
        )
    has_children = {p for p in parents if p is not None}
    childless = [c for c in code_list if level_of[c] > 1 and c not in has_children]
    if childless:
        raise HierarchyError(
            f"iMeta aggregates {_listed(childless)} have no children; remove them or "
            "attach indicators to them."
        )

    directions = pd.to_numeric(rows["Direction"], errors="coerce").to_numpy(dtype=np.float64)
    bad_dir = [
        c
        for c, lv, d in zip(code_list, levels, directions, strict=True)
        if lv == 1 and d not in (1.0, -1.0)
    ]
    if bad_dir:
        raise HierarchyError(
            f"iMeta indicators {_listed(bad_dir)} have a Direction other than 1 or -1 "
            "(1: higher value scores higher; -1: higher value scores lower)."
        )
    # Aggregates carry no direction of their own: their children are already oriented.
    directions = np.where(levels == 1, directions, 1.0)

    weights = pd.to_numeric(rows["Weight"], errors="coerce").to_numpy(dtype=np.float64)
    is_root = np.array([p is None for p in parents])
    bad_weight = [
        c
        for c, w, r in zip(code_list, weights, is_root, strict=True)
        if not r and (not np.isfinite(w) or w < 0)
    ]
    if bad_weight:
        raise HierarchyError(
            f"iMeta rows {_listed(bad_weight)} have a missing or negative Weight; weights "
            "must be numbers >= 0 (they are relative within each parent)."
        )
    # A root's weight has nothing to weigh against; default it so the table stays numeric.
    weights = np.where(is_root & ~np.isfinite(weights), 1.0, weights)

    if "Denominator" in rows.columns:
        denominators = [None if _blank(d) else str(d).strip() for d in rows["Denominator"]]
    else:
        denominators = [None] * len(code_list)

    table = pd.DataFrame(
        {
            "Level": levels,
            "Parent": pd.Series(parents, dtype=object).to_numpy(),
            "Direction": directions,
            "Weight": weights,
            "Denominator": pd.Series(denominators, dtype=object).to_numpy(),
        },
        index=pd.Index(code_list, name="iCode"),
    )
    return Hierarchy(table=table)


def as_hierarchy(meta: pd.DataFrame | Hierarchy) -> Hierarchy:
    """Accept either an iMeta table (validated here) or an already validated Hierarchy."""
    return meta if isinstance(meta, Hierarchy) else validate_meta(meta)


def _with_columns(data: pd.DataFrame, codes: Sequence[str], values: FloatArray) -> pd.DataFrame:
    """``data`` with the columns ``codes`` replaced by ``values`` (other columns kept, in
    their place). One block assignment: column-by-column setting is slow in pandas."""
    replaced = pd.DataFrame(values, index=data.index, columns=pd.Index(codes))
    if len(codes) == data.shape[1] and list(codes) == [str(c) for c in data.columns]:
        return replaced
    rest = data.drop(columns=list(codes))
    return pd.concat([rest, replaced], axis=1)[list(data.columns)]


def _numeric_block(data: pd.DataFrame, codes: Sequence[str], what: str) -> FloatArray:
    missing = [c for c in codes if c not in data.columns]
    if missing:
        raise ValueError(
            f"The data lack the {what} column(s) {_listed(missing)}; add them (NaN where "
            "unknown) or remove them from iMeta."
        )
    try:
        return data[list(codes)].to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"The {what} columns must be numeric; convert text such as '1.234,5' or 'n/d' "
            f"to numbers or NaN first ({exc})."
        ) from exc


# --------------------------------------------------------------------------------------
# Denomination
# --------------------------------------------------------------------------------------


def denominate(
    data: pd.DataFrame,
    meta: pd.DataFrame | Hierarchy,
    scale: float | Mapping[str, float] = 1.0,
) -> pd.DataFrame:
    """Divide each indicator by the data column named in its ``Denominator``.

    ``value / denominator * scale`` (e.g. ``scale=100_000`` for rates per 100,000 when the
    denominator is population); ``scale`` may also map denominator names to their own
    factor. Indicators without a denominator and all other columns are returned
    unchanged. A missing denominator gives NaN; a zero or negative one is an error,
    because the rate would be meaningless.
    """
    h = as_hierarchy(meta)
    den = h.table.loc[h.indicators, "Denominator"].dropna()
    out = data.copy()
    if den.empty:
        return out
    targets = [str(c) for c in den.index]
    by = [str(d) for d in den.to_numpy()]
    num = _numeric_block(data, targets, "indicator")
    denom = _numeric_block(data, sorted(set(by)), "denominator")
    col = {d: j for j, d in enumerate(sorted(set(by)))}
    d = denom[:, [col[b] for b in by]]
    bad = np.argwhere(d <= 0)
    if bad.size:
        cases = [f"{data.index[i]}/{by[j]}={d[i, j]:g}" for i, j in bad]
        raise ValueError(
            f"Denominators must be positive, found {_listed(cases)}; correct the reference "
            "data or set those values to NaN."
        )
    if isinstance(scale, Mapping):
        unscaled = sorted(set(by) - set(scale))
        if unscaled:
            raise ValueError(f"denominate(scale=...) has no factor for {unscaled}.")
        factors = np.array([float(scale[b]) for b in by], dtype=np.float64)
    else:
        factors = np.full(len(by), float(scale))
    out[targets] = num / d * factors
    return out


# --------------------------------------------------------------------------------------
# Imputation (COINr's i_mean, i_median, i_mean_grp, i_median_grp, impute_panel "latest")
# --------------------------------------------------------------------------------------

IMPUTATION_METHODS: tuple[str, ...] = (
    "none",
    "mean",
    "median",
    "group_mean",
    "group_median",
    "latest",
)
IMPUTATION_LOG_COLUMNS: tuple[str, ...] = ("uCode", "iCode", "method", "value", "source")


@dataclass(frozen=True)
class ImputeResult:
    """Outcome of :func:`impute`.

    ``data``: the input with missing indicator values filled where the method could;
    ``imputed``: a boolean frame (units x indicators), True exactly where a value was
    filled in; ``log``: one row per filled value (``IMPUTATION_LOG_COLUMNS``; ``source``
    says where it came from, e.g. ``mean of 48 units`` or ``2021``).
    """

    data: pd.DataFrame
    imputed: pd.DataFrame
    log: pd.DataFrame

    @property
    def n_imputed(self) -> int:
        return int(self.imputed.to_numpy().sum())


def _column_stat(x: FloatArray, how: str) -> FloatArray:
    """Mean or median of each column over the values present (NaN if none)."""
    present = ~np.isnan(x)
    n = present.sum(axis=0)
    out = np.full(x.shape[1], np.nan)
    ok = n > 0
    if how == "mean":
        out[ok] = np.where(present, x, 0.0).sum(axis=0)[ok] / n[ok]
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
            out[ok] = np.nanmedian(x[:, ok], axis=0)
    return out


def impute(
    data: pd.DataFrame,
    meta: pd.DataFrame | Hierarchy | None = None,
    method: str = "none",
    *,
    indicators: Sequence[str] | None = None,
    groups: pd.Series | str | None = None,
    previous: pd.DataFrame | Mapping[str, pd.DataFrame] | None = None,
) -> ImputeResult:
    """Fill missing indicator values; every filled value is flagged and logged.

    Methods (COINr's imputation functions, column by column):

    * ``none``: nothing is filled (the default: missing stays missing).
    * ``mean`` / ``median``: the indicator's mean / median over the units that have it
      (``i_mean``, ``i_median``).
    * ``group_mean`` / ``group_median``: the same within the unit's group
      (``i_mean_grp``, ``i_median_grp``). ``groups`` is a Series of group labels indexed
      like ``data`` or the name of a column of ``data`` (e.g. ``"subregion"``). A unit
      without a group, or a group where nobody has the indicator, stays missing.
    * ``latest``: the same unit's value in the latest earlier cycle that has one
      (COINr ``impute_panel(imp_type = "latest")``). ``previous`` is one frame of the
      previous cycle or a mapping ``{label: frame}`` from newest to oldest; frames are
      indexed by unit and have indicator columns.

    Only indicator columns are touched (``indicators``, else the level-1 codes of
    ``meta``, else every numeric column). Observed values are never changed.
    """
    if method not in IMPUTATION_METHODS:
        raise ValueError(
            f"Unknown imputation method {method!r}; choose one of {list(IMPUTATION_METHODS)}."
        )
    if indicators is not None:
        codes = [str(c) for c in indicators]
    elif meta is not None:
        codes = as_hierarchy(meta).indicators
    else:
        codes = [str(c) for c in data.columns if pd.api.types.is_numeric_dtype(data[c])]
    x = _numeric_block(data, codes, "indicator")
    filled = x.copy()
    source = np.full(x.shape, "", dtype=object)
    missing = np.isnan(x)

    if method in ("mean", "median"):
        stat = _column_stat(x, method)
        n = (~missing).sum(axis=0)
        filled = np.where(missing, stat[None, :], x)
        source[:] = np.array([f"{method} of {k} units" for k in n], dtype=object)[None, :]
    elif method in ("group_mean", "group_median"):
        labels = _group_labels(data, groups)
        how = method.removeprefix("group_")
        for label in pd.unique(labels.dropna()):
            rows = (labels == label).to_numpy()
            block = x[rows]
            stat = _column_stat(block, how)
            n = (~np.isnan(block)).sum(axis=0)
            filled[rows] = np.where(np.isnan(block), stat[None, :], block)
            source[rows] = np.array(
                [f"{how} of group {label} ({k} units)" for k in n], dtype=object
            )[None, :]
    elif method == "latest":
        if previous is None:
            raise ValueError(
                "Imputation 'latest' needs the previous cycle(s): pass previous=frame or "
                "previous={label: frame} (newest first)."
            )
        frames = {"previous cycle": previous} if isinstance(previous, pd.DataFrame) else previous
        for label, frame in frames.items():
            gap = np.isnan(filled)
            if not gap.any():
                break
            aligned = frame.reindex(index=data.index, columns=pd.Index(codes))
            try:
                old = aligned.to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"The previous data ({label}) has non-numeric indicator values ({exc})."
                ) from exc
            take = gap & ~np.isnan(old)
            filled[take] = old[take]
            source[take] = str(label)

    was_filled = missing & ~np.isnan(filled)
    out = _with_columns(data, codes, filled)
    mask = pd.DataFrame(was_filled, index=data.index, columns=pd.Index(codes))
    rows, cols = np.nonzero(was_filled)
    log = pd.DataFrame(
        {
            "uCode": [str(data.index[int(i)]) for i in rows],
            "iCode": [codes[j] for j in cols],
            "method": method,
            "value": filled[rows, cols],
            "source": [str(source[i, j]) for i, j in zip(rows, cols, strict=True)],
        },
        columns=list(IMPUTATION_LOG_COLUMNS),
    )
    if len(log):
        logger.debug("Imputed %d value(s) by %s.", len(log), method)
    return ImputeResult(data=out, imputed=mask, log=log)


def _group_labels(data: pd.DataFrame, groups: pd.Series | str | None) -> pd.Series:
    if groups is None:
        raise ValueError(
            "Group imputation needs groups: a column name of the data (e.g. 'subregion') "
            "or a Series of group labels indexed by unit."
        )
    if isinstance(groups, str):
        if groups not in data.columns:
            raise ValueError(
                f"The data have no group column {groups!r}; available columns: "
                f"{_listed([str(c) for c in data.columns])}."
            )
        labels = data[groups]
    else:
        labels = groups.reindex(data.index)
    return labels.astype(object).where(labels.notna(), None)


def impute_panel(
    panel: pd.DataFrame,
    meta: pd.DataFrame | Hierarchy | None = None,
    *,
    time_col: str = "Time",
    unit_col: str = "uCode",
    time: object | None = None,
    max_time: int | None = None,
    indicators: Sequence[str] | None = None,
) -> ImputeResult:
    """COINr's ``impute_panel(imp_type = "latest")`` for one time point of a panel.

    ``panel`` has one row per unit and time (columns ``unit_col``, ``time_col`` and the
    indicators). Returns the rows of ``time`` (default: the latest), indexed by unit, with
    each missing value replaced by the unit's value at the latest earlier time that has
    one, looking back at most ``max_time`` time points (all by default).
    """
    for col in (time_col, unit_col):
        if col not in panel.columns:
            raise ValueError(f"The panel data have no {col!r} column.")
    times = sorted(pd.unique(panel[time_col].dropna()), reverse=True)
    if not times:
        raise ValueError(f"The panel's {time_col!r} column is empty.")
    target = times[0] if time is None else time
    if target not in times:
        raise ValueError(f"No rows with {time_col} = {target!r}; the panel has {times}.")
    older = [t for t in times if t < target]
    if max_time is not None:
        older = older[:max_time]

    def rows_at(t: object) -> pd.DataFrame:
        rows = panel[panel[time_col] == t]
        dupes = sorted(set(rows.loc[rows[unit_col].duplicated(), unit_col].astype(str)))
        if dupes:
            raise ValueError(f"The panel repeats unit(s) {dupes[:5]} at {time_col} = {t}.")
        return rows.set_index(unit_col)

    current = rows_at(target)
    previous = {str(t): rows_at(t) for t in older}
    return impute(current, meta, "latest", indicators=indicators, previous=previous)


# --------------------------------------------------------------------------------------
# Outlier treatment (COINr's Treat() with its default specification)
# --------------------------------------------------------------------------------------

TREATMENT_METHODS: tuple[str, ...] = ("coinr_default", "none")
LOG_TRANSFORMS: tuple[str, ...] = ("log_CT", "log_CT_plus")
TREATMENT_SETTINGS: tuple[str, ...] = ("method", "winmax", "skew_thresh", "kurt_thresh", "log")
TREATMENT_LOG_COLUMNS: tuple[str, ...] = (
    "iCode",
    "treated",
    "method",
    "n_winsorised_high",
    "n_winsorised_low",
    "skew_before",
    "kurt_before",
    "skew_after",
    "kurt_after",
    "note",
)
# COINr's skew() needs 3 values and kurt() 4; below that its pass check is NA (or, with 3
# values, always passes since |skew| <= sqrt(3)), so the indicator is left untreated.
MIN_TREAT_VALUES = 4


@dataclass(frozen=True)
class TreatResult:
    """Outcome of :func:`treat`.

    ``data``: the input frame with the treated indicator columns replaced (every other
    column unchanged); ``log``: one row per indicator considered, with the columns
    ``TREATMENT_LOG_COLUMNS`` (``method`` is ``none``, ``winsorise`` or ``log``;
    ``note`` says why in words).
    """

    data: pd.DataFrame
    log: pd.DataFrame

    @property
    def winsorised(self) -> list[str]:
        return [str(c) for c in self.log.loc[self.log["method"] == "winsorise", "iCode"]]

    @property
    def log_transformed(self) -> list[str]:
        return [str(c) for c in self.log.loc[self.log["method"] == "log", "iCode"]]


@dataclass(frozen=True)
class _TreatSpec:
    method: TreatmentMethod
    winmax: int
    skew_thresh: float
    kurt_thresh: float
    log: LogTransform


def skew_kurt(values: FloatArray) -> tuple[float, float]:
    """Sample skewness and excess kurtosis of the non-missing ``values`` ("type 2").

    These are COINr's ``skew()``/``kurt()`` (e1071 type 2, Excel's SKEW/KURT), i.e.
    ``scipy.stats.skew/kurtosis(bias=False)``. NaN where COINr gives NA: skewness with
    fewer than 3 values, kurtosis with fewer than 4, and either without spread.

    The arithmetic is scipy's, step for step (same moments, same "no spread" test
    ``m2 <= (eps * mean)**2``), so the result is bit-identical; calling scipy itself
    costs ~40x more per column, which matters when treatment runs once per Monte Carlo
    choice.
    """
    v = values[~np.isnan(values)]
    n = float(v.size)
    if v.size < 3:
        return math.nan, math.nan
    mean = v.mean()
    d = v - mean
    d2 = d**2
    m2 = float(d2.mean())
    m3 = float((d2 * d).mean())
    m4 = float((d2**2).mean())
    if m2 <= (float(np.finfo(np.float64).eps) * float(mean)) ** 2:
        return math.nan, math.nan
    sk = ((n - 1.0) * n) ** 0.5 / (n - 2.0) * m3 / m2**1.5
    if v.size < 4:
        return sk, math.nan
    g = 1.0 / (n - 2) / (n - 3) * ((n**2 - 1.0) * m4 / m2**2.0 - 3 * (n - 1) ** 2.0)
    return sk, (g + 3.0) - 3


def _passes(sk: float, kt: float, spec: _TreatSpec) -> bool | None:
    """COINr's ``check_SkewKurt``: ``|skew| < skew_thresh OR kurt < kurt_thresh``.

    With R's three-valued logic: None (NA) when neither test is true and one cannot be
    computed; COINr then returns the indicator untreated.
    """
    small_skew = None if math.isnan(sk) else abs(sk) < spec.skew_thresh
    small_kurt = None if math.isnan(kt) else kt < spec.kurt_thresh
    if small_skew or small_kurt:
        return True
    if small_skew is None or small_kurt is None:
        return None
    return False


def _winsorise(v: FloatArray, spec: _TreatSpec) -> tuple[FloatArray, int, int, bool | None]:
    """COINr's ``winsorise()`` on values that failed the check (no NaN in ``v``).

    Each step looks at the sign of the current skew (>= 0: high end) and sets every value
    equal to the current maximum (ties move together) to the next-lower value, or the
    minimum to the next-higher value. As in COINr the count is the number of points moved
    at the last step on each side (each step re-moves the points already capped, as they
    now tie with the new extreme), and steps continue while the indicator fails and the
    count is below ``winmax``; a tied step can therefore take the count past ``winmax``.
    Returns the values, the counts at the high and low end and the final check.
    """
    x = v.copy()
    n_high = n_low = 0
    passing: bool | None = False
    while passing is False and n_high + n_low < spec.winmax:
        # A failing check means skew and kurtosis exist, so x has spread here.
        sk, _ = skew_kurt(x)
        if sk >= 0:
            top = x == x.max()
            x[top] = x[~top].max()
            n_high = int(top.sum())
        else:
            bottom = x == x.min()
            x[bottom] = x[~bottom].min()
            n_low = int(bottom.sum())
        passing = _passes(*skew_kurt(x), spec)
    return x, n_high, n_low, passing


def _log_transform(v: FloatArray, kind: LogTransform) -> FloatArray:
    """COINr's ``log_CT`` (its default) or ``log_CT_plus`` on the original values.

    ``log_CT``: ``log(x - min + a)`` with ``a = 0.01 (max - min)``, whatever the skew.
    ``log_CT_plus``: the same when skew > 0, else the mirror ``-log(max + a - x)``.
    Both are increasing in x, so the order of units is kept.
    """
    lo, hi = float(v.min()), float(v.max())
    a = 0.01 * (hi - lo)
    if kind == "log_CT_plus" and not skew_kurt(v)[0] > 0:
        return np.asarray(-np.log(hi + a - v), dtype=np.float64)
    return np.asarray(np.log(v - lo + a), dtype=np.float64)


def _treat_values(v: FloatArray, spec: _TreatSpec) -> tuple[FloatArray, dict[str, object]]:
    """Treat one indicator's non-missing values; returns them and its log row."""
    sk0, kt0 = skew_kurt(v)
    row: dict[str, object] = {
        "treated": False,
        "method": "none",
        "n_winsorised_high": 0,
        "n_winsorised_low": 0,
        "skew_before": sk0,
        "kurt_before": kt0,
        "skew_after": sk0,
        "kurt_after": kt0,
        "note": "",
    }
    if spec.method == "none":
        row["note"] = "treatment switched off (method: none)"
        return v, row
    passing = _passes(sk0, kt0, spec)
    if passing is None:
        row["note"] = (
            f"untreated: {v.size} value(s), skew and kurtosis need {MIN_TREAT_VALUES}"
            if v.size < MIN_TREAT_VALUES
            else "untreated: all values equal"
        )
        return v, row
    if passing:
        row["note"] = "passes: |skew| < skew_thresh or kurtosis < kurt_thresh"
        return v, row
    x, n_high, n_low, passing = _winsorise(v, spec)
    if passing is None:
        # COINr errors or gets NA here and keeps the original values.
        row["note"] = "untreated: winsorising left all values equal"
        return v, row
    if passing:
        sk1, kt1 = skew_kurt(x)
        row.update(
            treated=True,
            method="winsorise",
            n_winsorised_high=n_high,
            n_winsorised_low=n_low,
            skew_after=sk1,
            kurt_after=kt1,
            note=f"winsorised {n_high + n_low} point(s); passes",
        )
        return x, row
    # Winsorising up to winmax was not enough: discard it and log the original values.
    x = _log_transform(v, spec.log)
    sk2, kt2 = skew_kurt(x)
    after = _passes(sk2, kt2, spec)
    if after is None:
        row["note"] = "untreated: the log transform gave no spread"
        return v, row
    row.update(
        treated=True,
        method="log",
        skew_after=sk2,
        kurt_after=kt2,
        note=(
            f"winsorising {n_high + n_low} point(s) did not pass; {spec.log} of the original "
            + ("values passes" if after else "values still fails (kept, as in COINr)")
        ),
    )
    return x, row


def _treat_specs(
    codes: Sequence[str], default: _TreatSpec, per_indicator: Mapping[str, Mapping[str, object]]
) -> dict[str, _TreatSpec]:
    """Per-indicator settings over the defaults; every key and value is checked."""
    unknown = sorted(set(per_indicator) - set(codes))
    if unknown:
        raise ValueError(
            f"treat(per_indicator=...) names indicator(s) that are not being treated: "
            f"{_listed(unknown)}. Use codes of the treated indicators ({_listed(list(codes))})."
        )
    specs = dict.fromkeys(codes, default)
    for code, settings in per_indicator.items():
        bad_keys = sorted(set(settings) - set(TREATMENT_SETTINGS))
        if bad_keys:
            raise ValueError(
                f"treat(per_indicator[{code!r}]) has unknown setting(s) {bad_keys}; use "
                f"{list(TREATMENT_SETTINGS)}."
            )
        spec = replace(default, **settings)  # type: ignore[arg-type]
        _check_spec(spec, f"per_indicator[{code!r}]")
        specs[code] = spec
    return specs


def _check_spec(spec: _TreatSpec, where: str) -> None:
    if spec.method not in TREATMENT_METHODS:
        raise ValueError(f"treat {where}: method must be one of {list(TREATMENT_METHODS)}.")
    if spec.log not in LOG_TRANSFORMS:
        raise ValueError(f"treat {where}: log must be one of {list(LOG_TRANSFORMS)}.")
    if isinstance(spec.winmax, bool) or not isinstance(spec.winmax, int) or spec.winmax < 0:
        raise ValueError(f"treat {where}: winmax must be an integer >= 0, got {spec.winmax!r}.")
    for name in ("skew_thresh", "kurt_thresh"):
        value = getattr(spec, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
            raise ValueError(f"treat {where}: {name} must be a finite number, got {value!r}.")
    if spec.skew_thresh <= 0:
        raise ValueError(f"treat {where}: skew_thresh must be > 0, got {spec.skew_thresh}.")


def treat(
    data: pd.DataFrame,
    meta: pd.DataFrame | Hierarchy | None = None,
    *,
    method: TreatmentMethod = "coinr_default",
    winmax: int = 5,
    skew_thresh: float = 2.0,
    kurt_thresh: float = 3.5,
    log: LogTransform = "log_CT",
    indicators: Sequence[str] | None = None,
    per_indicator: Mapping[str, Mapping[str, object]] | None = None,
) -> TreatResult:
    """Treat outliers indicator by indicator, exactly as COINr's ``Treat()`` by default.

    For each indicator, over the units with a value (missing values stay missing):

    1. It *passes* if ``|skew| < skew_thresh`` OR ``kurtosis < kurt_thresh`` (type-2
       sample skewness and excess kurtosis, :func:`skew_kurt`). Passing: untreated.
    2. Otherwise it is winsorised one step at a time on the side of the skew's sign (the
       maximum value(s) set to the next-lower value, ties together), re-checking after
       each step, while it fails and fewer than ``winmax`` points have been moved.
    3. If it still fails, the winsorisation is discarded and the *original* values are
       log-transformed: ``log(x - min + 0.01 (max - min))`` (``log="log_CT"``, COINr's
       default; ``"log_CT_plus"`` mirrors it as ``-log(max + 0.01 (max - min) - x)``
       when skew <= 0). The result is kept even if it still fails, as in COINr.

    Where COINr's check is NA (fewer than ``MIN_TREAT_VALUES`` values, all values equal,
    or winsorising leaves them all equal) the indicator is left untreated.

    Treatment works on raw (or denominated) values, before directions and normalisation.
    ``indicators`` defaults to the level-1 indicators of ``meta``, or to every column of
    ``data`` when there is no ``meta``. ``method="none"`` treats nothing (the log still
    gives skew and kurtosis). ``per_indicator`` maps an indicator code to settings that
    replace the defaults for it (keys ``method, winmax, skew_thresh, kurt_thresh,
    log``), e.g. ``{"x1": {"method": "none"}}``; unknown codes or keys are errors, so a
    setting is never silently ignored.
    """
    if indicators is not None:
        codes = [str(c) for c in indicators]
        if meta is not None:
            h = as_hierarchy(meta)
            not_indicators = sorted(set(codes) - set(h.indicators))
            if not_indicators:
                raise ValueError(
                    "treat(indicators=...) got codes that are not level-1 indicators of "
                    f"iMeta: {_listed(not_indicators)}."
                )
    elif meta is not None:
        codes = as_hierarchy(meta).indicators
    else:
        codes = [str(c) for c in data.columns]
    default = _TreatSpec(
        method=method, winmax=winmax, skew_thresh=skew_thresh, kurt_thresh=kurt_thresh, log=log
    )
    _check_spec(default, "settings")
    specs = _treat_specs(codes, default, per_indicator or {})
    x = _numeric_block(data, codes, "indicator")
    treated = x.copy()
    rows: list[dict[str, object]] = []
    # One indicator at a time (COINr does the same); the maths inside is on whole columns.
    for j, code in enumerate(codes):
        present = ~np.isnan(x[:, j])
        values, row = _treat_values(x[present, j], specs[code])
        treated[present, j] = values
        rows.append({"iCode": code, **row})
        if row["treated"]:
            logger.debug("Treated %s: %s", code, row["note"])
    out = _with_columns(data, codes, treated)
    log_frame = pd.DataFrame(rows, columns=list(TREATMENT_LOG_COLUMNS))
    log_frame = log_frame.astype(
        {
            "iCode": "object",
            "treated": "bool",
            "method": "object",
            "n_winsorised_high": "int64",
            "n_winsorised_low": "int64",
            "skew_before": "float64",
            "kurt_before": "float64",
            "skew_after": "float64",
            "kurt_after": "float64",
            "note": "object",
        }
    )
    return TreatResult(data=out, log=log_frame)


# --------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------

NORMALISATION_METHODS: tuple[str, ...] = typing.get_args(NormalisationMethod)
# Methods whose result depends on the spread of the units (not on fixed external posts).
_DATA_DRIVEN: tuple[str, ...] = ("minmax", "zscore", "rank", "prank")


@dataclass(frozen=True)
class _NormParams:
    lo: float
    hi: float
    zero_range: ZeroRange
    directions: FloatArray
    low: FloatArray | None  # goalposts per column, in raw units
    high: FloatArray | None
    truncate: bool
    mean: float
    sd: float
    targets: FloatArray | None  # dist2targ, raw units
    cap_max: bool


def _fill_zero_range(
    y: FloatArray, x: FloatArray, zero: npt.NDArray[np.bool_], fill: float
) -> None:
    """Give columns without spread ``fill`` where a value exists (in place)."""
    if zero.any():
        y[:, zero] = np.where(np.isnan(x[:, zero]), np.nan, fill)


def _no_spread(x: FloatArray, *, single: bool) -> npt.NDArray[np.bool_]:
    """Columns whose present values are all equal (and, if ``single``, one value only)."""
    n = (~np.isnan(x)).sum(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        flat = (n > 0) & (np.fmax.reduce(x, axis=0) == np.fmin.reduce(x, axis=0))
    return np.asarray(flat | (single & (n == 1)), dtype=np.bool_)


def _minmax(x: FloatArray, p: _NormParams) -> FloatArray:
    mn = np.fmin.reduce(x, axis=0)
    mx = np.fmax.reduce(x, axis=0)
    rng = mx - mn
    zero = rng == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        y = (x - mn) / rng * (p.hi - p.lo) + p.lo
    fill = np.nan if p.zero_range == "nan" else (p.lo + p.hi) / 2
    _fill_zero_range(y, x, zero, fill)
    # (x - min) / range is in [0, 1] exactly; only the final affine step can overshoot.
    return np.asarray(np.clip(y, p.lo, p.hi), dtype=np.float64)


def _zscore(x: FloatArray, p: _NormParams) -> FloatArray:
    present = ~np.isnan(x)
    n = present.sum(axis=0).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(present, x, 0.0).sum(axis=0) / n
        dev = np.where(present, x - mean, 0.0)
        sd = np.sqrt((dev**2).sum(axis=0) / (n - 1))  # sample SD (ddof=1), as R's sd()
        y = (x - mean) / sd * p.sd + p.mean  # COINr n_zscore(m_sd = c(mean, sd))
    zero = (n >= 1) & ~(sd > 0)
    _fill_zero_range(y, x, zero, np.nan if p.zero_range == "nan" else p.mean)
    return np.asarray(y, dtype=np.float64)


def _rank_min(x: FloatArray) -> FloatArray:
    """Ascending ranks per column, ties take the lowest ("min"), NaN stays NaN."""
    frame = pd.DataFrame(x)
    ranks = frame.rank(method="min", ascending=True, na_option="keep")
    return np.array(ranks.to_numpy(np.float64), dtype=np.float64)  # a writable copy


def _rank(x: FloatArray, p: _NormParams) -> FloatArray:
    # COINr n_rank: rank(x, ties.method = "min"), so the highest value gets the highest rank.
    y = _rank_min(x)
    _fill_zero_range(y, x, _no_spread(x, single=False), np.nan if p.zero_range == "nan" else 1.0)
    return y


def _prank(x: FloatArray, p: _NormParams) -> FloatArray:
    # COINr n_prank: (rank_min - 1) / (n - 1) in [0, 1]; rescaled here to [lo, hi].
    n = (~np.isnan(x)).sum(axis=0).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = (_rank_min(x) - 1.0) / (n - 1.0) * (p.hi - p.lo) + p.lo
    fill = np.nan if p.zero_range == "nan" else (p.lo + p.hi) / 2
    _fill_zero_range(y, x, _no_spread(x, single=True), fill)
    return np.asarray(y, dtype=np.float64)


def _goalposts(x: FloatArray, p: _NormParams) -> FloatArray:
    if p.low is None or p.high is None:
        raise ValueError("Goalpost normalisation needs goalposts=(low, high), e.g. (1, 10).")
    # x was multiplied by its direction, so the posts are too (COINr's n_goalposts).
    a = np.minimum(p.directions * p.low, p.directions * p.high)
    b = np.maximum(p.directions * p.low, p.directions * p.high)
    t = (x - a) / (b - a)
    if p.truncate:
        t = np.clip(t, 0.0, 1.0)
    return np.asarray(t * (p.hi - p.lo) + p.lo, dtype=np.float64)


def _dist2targ(x: FloatArray, p: _NormParams) -> FloatArray:
    if p.targets is None:
        raise ValueError("Distance-to-target normalisation needs a target per indicator.")
    # COINr n_dist2targ on direction-applied values: (x - min) / (target - min).
    t = p.directions * p.targets
    mn = np.fmin.reduce(x, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = (x - mn) / (t - mn)
    if p.cap_max:
        y = np.minimum(y, 1.0)
    return np.asarray(y * (p.hi - p.lo) + p.lo, dtype=np.float64)


# Every method: array (units x indicators, direction applied) -> array of the same shape.
_NORMALISERS: dict[str, Callable[[FloatArray, _NormParams], FloatArray]] = {
    "minmax": _minmax,
    "zscore": _zscore,
    "rank": _rank,
    "prank": _prank,
    "goalposts": _goalposts,
    "dist2targ": _dist2targ,
}


def _per_column(
    value: float | tuple[float, float] | Mapping[str, object] | None,
    codes: Sequence[str],
    what: str,
) -> Mapping[str, object] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        absent = [c for c in codes if c not in value]
        if absent:
            raise ValueError(f"No {what} given for indicator(s) {_listed(absent)}.")
        return value
    return dict.fromkeys(codes, value)


def _goalpost_arrays(
    goalposts: tuple[float, float] | Mapping[str, tuple[float, float]] | None,
    codes: Sequence[str],
) -> tuple[FloatArray | None, FloatArray | None]:
    posts = _per_column(goalposts, codes, "goalposts")
    if posts is None:
        return None, None
    pairs = []
    for code in codes:
        pair = posts[code]
        if not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(f"Goalposts of {code} must be a pair (low, high), got {pair!r}.")
        low, high = float(pair[0]), float(pair[1])
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise ValueError(f"Goalposts must satisfy low < high, got {code}: {pair!r}.")
        pairs.append((low, high))
    arr = np.array(pairs, dtype=np.float64)
    return arr[:, 0], arr[:, 1]


def _target_array(
    targets: float | Mapping[str, float] | None, codes: Sequence[str]
) -> FloatArray | None:
    per = _per_column(targets, codes, "target")
    if per is None:
        return None
    values = np.array([float(per[c]) for c in codes], dtype=np.float64)  # type: ignore[arg-type]
    bad = [c for c, v in zip(codes, values, strict=True) if not np.isfinite(v)]
    if bad:
        raise ValueError(f"Targets must be finite numbers; check {_listed(bad)}.")
    return values


def normalise(
    data: pd.DataFrame,
    meta: pd.DataFrame | Hierarchy,
    method: NormalisationMethod = "minmax",
    lo: float = 0.0,
    hi: float = 100.0,
    *,
    zero_range: ZeroRange = "nan",
    goalposts: tuple[float, float] | Mapping[str, tuple[float, float]] | None = None,
    truncate: bool = True,
    mean: float = 0.0,
    sd: float = 1.0,
    targets: float | Mapping[str, float] | None = None,
    cap_max: bool = False,
    indicators: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Normalise the indicators (columns) over the units (rows) of ``data``.

    Each indicator is first multiplied by its ``Direction`` (so -1 turns "higher is
    better" into "higher scores higher"), then (COINr's ``n_*`` functions):

    * ``minmax``: ``(x - min) / (max - min) * (hi - lo) + lo`` over the units present.
    * ``zscore``: ``(x - mean_x) / sd_x * sd + mean`` with the sample SD (ddof = 1);
      ``mean``/``sd`` default to 0 and 1 (COINr ``m_sd``); ``lo``/``hi`` unused.
    * ``rank``: ascending ranks 1..n, ties take the lowest rank; ``lo``/``hi`` unused.
    * ``prank``: percentile rank ``(rank - 1) / (n - 1)`` rescaled to ``[lo, hi]``.
    * ``goalposts``: ``(x - low) / (high - low) * (hi - lo) + lo`` with fixed
      ``goalposts=(low, high)`` (or a mapping per indicator), truncated to the posts
      when ``truncate``. Fixed posts keep scores comparable across cycles.
    * ``dist2targ``: ``(x - min) / (target - min)`` (capped at 1 when ``cap_max``),
      rescaled to ``[lo, hi]``; ``targets`` in the indicator's own units (one number or
      a mapping per indicator), multiplied by the direction like the data.

    An indicator with no spread (all present values equal, or fewer than two values
    for z-scores and percentile ranks) cannot rank units under the data-driven methods
    (minmax, zscore, rank, prank). Like COINr (whose ``n_minmax`` returns NaN for a zero
    range) the default ``zero_range="nan"`` gives NaN, so the indicator drops out of the
    arithmetic mean; ``"midpoint"`` gives ``(lo + hi) / 2`` (``mean`` for z-scores, 1
    for ranks) instead. Either way a warning is logged naming the indicators.

    ``indicators`` restricts the work to some level-1 codes (e.g. to normalise two groups
    with different methods). Returns a frame with those indicator columns, same index.
    """
    h = as_hierarchy(meta)
    codes = list(indicators) if indicators is not None else h.indicators
    not_indicators = sorted(set(codes) - set(h.indicators))
    if not_indicators:
        raise ValueError(
            f"normalise(indicators=...) got codes that are not level-1 indicators of iMeta: "
            f"{_listed(not_indicators)}."
        )
    func = _NORMALISERS.get(method)
    if func is None:
        raise ValueError(
            f"Unknown normalisation method {method!r}; choose one of {list(_NORMALISERS)}."
        )
    if method not in ("zscore", "rank") and not lo < hi:
        raise ValueError(f"Normalisation bounds must satisfy lo < hi, got lo={lo}, hi={hi}.")
    if method == "zscore" and not sd > 0:
        raise ValueError(f"The z-score's target sd must be > 0, got {sd}.")
    if zero_range not in ("nan", "midpoint"):
        raise ValueError(f"zero_range must be 'nan' or 'midpoint', got {zero_range!r}.")
    directions = h.directions(codes)
    x = _numeric_block(data, codes, "indicator") * directions
    low, high = _goalpost_arrays(goalposts, codes) if method == "goalposts" else (None, None)
    params = _NormParams(
        lo=float(lo),
        hi=float(hi),
        zero_range=zero_range,
        directions=directions,
        low=low,
        high=high,
        truncate=truncate,
        mean=float(mean),
        sd=float(sd),
        targets=_target_array(targets, codes) if method == "dist2targ" else None,
        cap_max=cap_max,
    )
    y = func(x, params)
    if method in _DATA_DRIVEN:
        # Report indicators that cannot rank units, whatever zero_range does with them.
        flat = _no_spread(x, single=method in ("zscore", "prank"))
        if flat.any():
            _warn_once(
                f"Indicator(s) {_listed([c for c, f in zip(codes, flat, strict=True) if f])} "
                "have no spread across units: "
                f"{'scored NaN (dropped from means)' if zero_range == 'nan' else 'midpoint'} "
                f"under {method} normalisation."
            )
    return pd.DataFrame(y, index=data.index, columns=pd.Index(codes))


def derive_goalposts(
    data: pd.DataFrame,
    meta: pd.DataFrame | Hierarchy,
    *,
    margin: float = 0.0,
    indicators: Sequence[str] | None = None,
) -> dict[str, tuple[float, float]]:
    """Goalposts from a base cycle: each indicator's (min, max), widened by ``margin``.

    ``margin`` is a share of the range added on each side (0.1 widens by 10% of the
    range at both ends), so later cycles that go a little beyond the base cycle still
    score below 0 or above 100 only when they really leave its range. Store the result
    in the methodology file: fixed posts keep scores comparable from cycle to cycle.
    Indicators without spread or without values get no goalposts (and are listed in an
    error, so that the file is never written half-filled).
    """
    h = as_hierarchy(meta)
    codes = list(indicators) if indicators is not None else h.indicators
    x = _numeric_block(data, codes, "indicator")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mn, mx = np.nanmin(x, axis=0), np.nanmax(x, axis=0)
    bad = [c for c, a, b in zip(codes, mn, mx, strict=True) if not (np.isfinite(a) and b > a)]
    if bad:
        raise ValueError(
            f"Cannot derive goalposts for {_listed(bad)}: no values or no spread in the base "
            "data. Set their goalposts by hand."
        )
    pad = margin * (mx - mn)
    return {c: (float(a), float(b)) for c, a, b in zip(codes, mn - pad, mx + pad, strict=True)}


# --------------------------------------------------------------------------------------
# Aggregation
# --------------------------------------------------------------------------------------

AGGREGATION_METHODS: tuple[str, ...] = typing.get_args(AggregationMethod)


@dataclass(frozen=True)
class LevelMethod:
    """How one level is aggregated: a mean (``p`` only for ``generalised``) or Copeland."""

    method: AggregationMethod = "arithmetic"
    p: float | None = None

    def __post_init__(self) -> None:
        if self.method not in AGGREGATION_METHODS:
            raise ValueError(
                f"Unknown aggregation method {self.method!r}; choose one of "
                f"{list(AGGREGATION_METHODS)}."
            )
        if self.method == "generalised":
            if self.p is None or not np.isfinite(self.p):
                raise ValueError("The generalised mean needs a finite power p, e.g. p: 2.")
            if self.p == 0:
                raise ValueError(
                    "The generalised mean with p = 0 is the geometric mean in the limit; "
                    "use method: geometric instead."
                )
        elif self.p is not None:
            raise ValueError(f"p is only used by the generalised mean, not by {self.method}.")

    @property
    def label(self) -> str:
        return f"generalised(p={self.p:g})" if self.method == "generalised" else self.method


def domain_error(method: LevelMethod) -> tuple[Callable[[FloatArray], FloatArray], str] | None:
    """The values a mean cannot take, as (test of the bad values, what is needed)."""
    if method.method in ("geometric", "harmonic") or (
        method.method == "generalised" and method.p is not None and method.p < 0
    ):
        return (lambda v: v <= 0), "strictly positive values"
    if method.method == "generalised":
        return (lambda v: v < 0), "values >= 0"
    return None


def check_domain(
    x: FloatArray, method: LevelMethod, children: Sequence[str], units: Sequence[object]
) -> None:
    """Raise a ValueError naming the indicator and unit when a mean cannot use a value."""
    rule = domain_error(method)
    if rule is None:
        return
    test, need = rule
    present = ~np.isnan(x)
    bad = np.argwhere(present & test(np.where(present, x, 1.0)))
    if bad.size:
        cases = [f"{children[j]} = {x[i, j]:g} for unit {units[i]}" for i, j in bad]
        raise ValueError(
            f"The {method.label} mean needs {need}, but {_listed(cases)}. "
            "Normalise to [1, 100] (lo=1) instead of [0, 100], or use the arithmetic mean."
        )


def mean_transform(
    method: LevelMethod,
) -> tuple[Callable[[FloatArray], FloatArray], Callable[[FloatArray], FloatArray]]:
    """f and its inverse such that the weighted mean is ``f^-1(sum w f(x) / sum w)``.

    Arithmetic: f(x) = x; geometric: ln x; harmonic: 1/x; generalised: x^p. Missing
    values are dropped and the weights re-normalised over those present (COINr's
    ``a_amean``/``a_gmean``/``a_hmean``; its ``a_genmean`` returns NA when a value is
    missing, here it re-weights like the others).
    """
    if method.method == "arithmetic":
        return (lambda v: v), (lambda m: m)
    if method.method == "geometric":
        return np.log, np.exp
    if method.method == "harmonic":
        return (lambda v: 1.0 / v), (lambda m: 1.0 / m)
    if method.method == "generalised":
        p = float(method.p)  # type: ignore[arg-type]
        return (lambda v: v**p), (lambda m: m ** (1.0 / p))
    raise ValueError(f"{method.label} is not a mean.")


def copeland_points(x: FloatArray) -> FloatArray:
    """Per indicator, a unit's pairwise wins over the other units: 1 per unit it beats,
    1/2 per tie, over the units that have the indicator (0 where the unit lacks it).

    This is ``average ascending rank - 1`` among the units present. COINr's
    ``a_copeland`` sums the outranking matrix ``sum_k w_k [x_ik > x_jk] + w_k/2
    [x_ik == x_jk]`` over j; that sum is exactly ``sum_k w_k points_ik``.
    """
    from scipy import stats  # late: scipy.stats costs ~0.6 s to import, and only ranks need it

    ranks = stats.rankdata(x, axis=0, nan_policy="omit")
    return np.asarray(np.where(np.isnan(x), 0.0, ranks - 1.0), dtype=np.float64)


def _weighted_mean(
    x: FloatArray, w: FloatArray, m: LevelMethod, children: Sequence[str], units: pd.Index
) -> FloatArray:
    present = ~np.isnan(x)
    den = present.astype(np.float64) @ w
    if m.method == "copeland":
        num = copeland_points(x) @ w
        total = w.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            # COINr scales the weights of each parent to sum to 1 over all its children.
            return np.where(den > 0, num / total, np.nan)
    check_domain(x, m, children, list(units))
    forward, inverse = mean_transform(m)
    with np.errstate(divide="ignore", invalid="ignore"):
        fx = np.where(present, forward(np.where(present, x, 1.0)), 0.0)
        return np.where(den > 0, inverse((fx @ w) / den), np.nan)


def _coverage_thresholds(
    min_coverage: float | Mapping[str, float] | None, h: Hierarchy
) -> dict[str, float]:
    if min_coverage is None:
        return {}
    if isinstance(min_coverage, Mapping):
        unknown = sorted(set(min_coverage) - set(h.aggregates))
        if unknown:
            raise ValueError(
                f"min_coverage names codes that are not aggregates of iMeta: {_listed(unknown)}."
            )
        thresholds = {str(k): float(v) for k, v in min_coverage.items()}
    else:
        thresholds = dict.fromkeys(h.aggregates, float(min_coverage))
    bad = [f"{k}={v}" for k, v in thresholds.items() if not 0.0 <= v <= 1.0]
    if bad:
        raise ValueError(f"min_coverage must be a share in [0, 1], got {_listed(bad)}.")
    return thresholds


def level_methods(
    h: Hierarchy,
    method: AggregationMethod | LevelMethod | Mapping[int, AggregationMethod | LevelMethod],
    p: float | None = None,
) -> dict[int, LevelMethod]:
    """The aggregation of every level 2..L: one method for all, or a mapping by level
    (the level of the aggregates being computed); levels not named are arithmetic."""

    def one(m: AggregationMethod | LevelMethod) -> LevelMethod:
        if isinstance(m, LevelMethod):
            return m
        return LevelMethod(m, p if m == "generalised" else None)

    levels = range(2, h.n_levels + 1)
    if isinstance(method, Mapping):
        unknown = sorted(set(method) - set(levels))
        if unknown:
            raise ValueError(
                f"Aggregation is given for level(s) {unknown}, but the index has aggregation "
                f"levels {list(levels)} (2 = the first level above the indicators)."
            )
        return {lv: one(method.get(lv, "arithmetic")) for lv in levels}
    return {lv: one(method) for lv in levels}


def aggregate(
    normalised: pd.DataFrame,
    meta: pd.DataFrame | Hierarchy,
    method: AggregationMethod | LevelMethod | Mapping[int, AggregationMethod | LevelMethod] = (
        "arithmetic"
    ),
    *,
    p: float | None = None,
    min_coverage: float | Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Aggregate normalised indicators up every level of the tree.

    Each aggregate is the weighted mean of its children's values, over the children that
    are present (not NaN) with weights re-normalised over them (COINr's default):

    * ``arithmetic``: ``sum(w_i x_i) / sum(w_i)``;
    * ``geometric``: ``exp(sum(w_i ln x_i) / sum(w_i))``, which needs every x_i > 0;
    * ``harmonic``: ``sum(w_i) / sum(w_i / x_i)``, which needs every x_i > 0;
    * ``generalised``: ``(sum(w_i x_i^p) / sum(w_i))^(1/p)`` with power ``p`` (p = 1 is
      arithmetic, p -> 0 geometric, p = -1 harmonic); needs x_i > 0 when p < 0 and
      x_i >= 0 when p > 0;
    * ``copeland``: ``sum_i w_i points_i / sum(w_i)`` where ``points_i`` counts the units
      the unit beats on child i (ties 1/2), COINr's pairwise outranking score; it is in
      [0, n - 1], not on the children's scale.

    A value a mean cannot use raises ``ValueError`` naming the indicator and the unit.
    ``method`` may also map a level (2 = the first aggregation level) to its method.

    ``min_coverage`` (a share in [0, 1], for all aggregates or per aggregate code) sets an
    aggregate to NaN when fewer than that share of its children (counted, not weighted)
    are present. An aggregate whose present children all have weight 0 is NaN.

    Returns one column per element at every level: indicators as given, then the
    aggregates level by level (COINr's "Aggregated" data set).
    """
    h = as_hierarchy(meta)
    methods = level_methods(h, method, p)
    thresholds = _coverage_thresholds(min_coverage, h)
    current = _numeric_block(normalised, h.indicators, "indicator")
    blocks = [pd.DataFrame(current, index=normalised.index, columns=pd.Index(h.indicators))]
    for level in range(2, h.n_levels + 1):
        children, parents, w = h.weight_matrix(level)
        result = _weighted_mean(current, w, methods[level], children, normalised.index)
        if thresholds:
            s = h.structure_matrix(level)
            coverage = (~np.isnan(current)).astype(np.float64) @ s / s.sum(axis=0)
            need = np.array([thresholds.get(p_, 0.0) for p_ in parents])
            result = np.where(coverage + _COVERAGE_TOL >= need, result, np.nan)
        blocks.append(pd.DataFrame(result, index=normalised.index, columns=pd.Index(parents)))
        current = result
    return pd.concat(blocks, axis=1)


def effective_weights(aggregated: pd.DataFrame, meta: pd.DataFrame | Hierarchy) -> pd.DataFrame:
    """Each indicator's share of its root's arithmetic score, per unit.

    For an index aggregated with arithmetic means, ``root(u) = sum_i E(u, i) x(u, i)``
    over the indicators i under that root, where ``E`` is the product, along the path
    from i to the root, of ``w_child / sum of w over the children present`` (0 when the
    child is missing or its parent is). ``aggregated`` is :func:`aggregate`'s output, so
    coverage rules are already reflected in which aggregates are NaN. Returns a frame
    units x indicators.
    """
    h = as_hierarchy(meta)
    values = aggregated
    # share[u, c]: weight of child c in its parent's mean for unit u.
    top = h.n_levels
    shares: dict[int, pd.DataFrame] = {}
    for level in range(2, top + 1):
        children, parents, w = h.weight_matrix(level)
        x = values[children].to_numpy(np.float64)
        present = ~np.isnan(x)
        s = h.structure_matrix(level)
        wc = w.sum(axis=1)  # each child's own weight
        den = (present * wc) @ s  # units x parents
        parent_of = [parents.index(str(p)) for p in h.table.loc[children, "Parent"]]
        parent_ok = ~np.isnan(values[parents].to_numpy(np.float64))
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(present & parent_ok[:, parent_of], wc / den[:, parent_of], 0.0)
        shares[level] = pd.DataFrame(share, index=values.index, columns=pd.Index(children))
    # Walk down from the roots: E(child) = E(parent) * share(child).
    weight_of: dict[str, FloatArray] = {
        r: np.where(values[r].notna().to_numpy(), 1.0, 0.0) for r in h.roots
    }
    for level in range(top, 1, -1):
        for child in h.codes_at(level - 1):
            parent = h.table.loc[child, "Parent"]
            if not isinstance(parent, str):
                continue
            weight_of[child] = weight_of[str(parent)] * shares[level][child].to_numpy()
    out = {c: weight_of.get(c, np.zeros(len(values))) for c in h.indicators}
    return pd.DataFrame(out, index=values.index)


# --------------------------------------------------------------------------------------
# Ranking and the one-call index
# --------------------------------------------------------------------------------------


def rank_desc(series: pd.Series, *, decimals: int | None = None) -> pd.Series:
    """Rank from highest (1) to lowest; ties share the lowest rank ("min"); NaN stays NA.

    ``decimals`` rounds before ranking, so that scores equal in exact arithmetic but
    different in the last floating-point bit count as ties. Returns nullable ``Int64``.
    """
    values = pd.to_numeric(series, errors="raise").astype("float64")
    if decimals is not None:
        values = values.round(decimals)
    return values.rank(method="min", ascending=False, na_option="keep").astype("Int64")


@dataclass(frozen=True)
class IndexResult:
    """Every stage of one index build (each frame: one row per unit)."""

    hierarchy: Hierarchy
    data: pd.DataFrame  # input after denomination (if asked)
    normalised: pd.DataFrame  # level-1 indicators, normalised
    aggregated: pd.DataFrame  # every element at every level
    ranks: pd.DataFrame  # rank_desc of every aggregate column

    def scores(self, code: str | None = None) -> pd.Series:
        """Scores of one element (the single root by default)."""
        if code is None:
            roots = self.hierarchy.roots
            if len(roots) != 1:
                raise ValueError(f"The index has several roots {roots}; name one.")
            code = roots[0]
        return self.aggregated[code]


def build_index(
    data: pd.DataFrame,
    meta: pd.DataFrame | Hierarchy,
    *,
    normalisation: NormalisationMethod = "minmax",
    aggregation: AggregationMethod | LevelMethod | Mapping[int, AggregationMethod | LevelMethod] = (
        "arithmetic"
    ),
    lo: float = 0.0,
    hi: float = 100.0,
    zero_range: ZeroRange = "nan",
    goalposts: tuple[float, float] | Mapping[str, tuple[float, float]] | None = None,
    denominate_data: bool = False,
    denominator_scale: float = 1.0,
    min_coverage: float | Mapping[str, float] | None = None,
    p: float | None = None,
) -> IndexResult:
    """Denominate (optional), normalise, aggregate and rank in one call.

    For imputation, outlier treatment and per-indicator settings, use
    ``ideal.scoring.spec.build_from_spec`` with a method file.
    """
    h = as_hierarchy(meta)
    prepared = denominate(data, h, scale=denominator_scale) if denominate_data else data
    normalised = normalise(
        prepared,
        h,
        method=normalisation,
        lo=lo,
        hi=hi,
        zero_range=zero_range,
        goalposts=goalposts,
    )
    aggregated = aggregate(normalised, h, method=aggregation, p=p, min_coverage=min_coverage)
    ranks = pd.DataFrame({c: rank_desc(aggregated[c]) for c in h.aggregates}, index=data.index)
    return IndexResult(
        hierarchy=h, data=prepared, normalised=normalised, aggregated=aggregated, ranks=ranks
    )


@functools.lru_cache(maxsize=256)
def _warn_once(message: str) -> None:
    # The Monte Carlo normalises the same data many times; say it once, not per replicate.
    logger.warning("%s", message)
