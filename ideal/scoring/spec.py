"""The method file of the general composite-indicator engine, and one call that applies it.

What belongs here: the pydantic schema of ``method.yaml`` for ``ideal index`` (any index
described by a COINr iData/iMeta pair, not the CLASI threat scoring, whose file is
``ideal.scoring.methodology``), its loader with the file's sha256, the reading of iData /
iMeta files, and :func:`build_from_spec`, which runs denominate -> impute -> treat ->
normalise -> aggregate -> rank with the file's settings. Every key is documented in
docs/methodology.md (section "The general engine's method file").
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, Self

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ideal.scoring.engine import (
    AggregationMethod,
    Hierarchy,
    ImputeResult,
    IndexResult,
    LevelMethod,
    NormalisationMethod,
    TreatResult,
    aggregate,
    as_hierarchy,
    denominate,
    impute,
    normalise,
    rank_desc,
    treat,
    validate_meta,
)
from ideal.scoring.methodology import LogName, TreatmentName, TreatmentOverride, WeightNoise

logger = logging.getLogger(__name__)

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Pair = tuple[Finite, Finite]
ImputeMethodName = Literal["none", "mean", "median", "group_mean", "group_median", "latest"]


class MethodFileError(ValueError):
    """The method file (or the data it is applied to) has a mistake; the message says which."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ImputationSpec(_Frozen):
    """``imputation``: how missing indicator values are filled (default: they are not)."""

    method: ImputeMethodName = "none"
    group: str | None = None  # iData column with group labels (group_mean, group_median)
    max_time: Annotated[int, Field(ge=1)] | None = None  # latest: look back at most this far

    @model_validator(mode="after")
    def _group_when_needed(self) -> Self:
        if self.method.startswith("group_") and not self.group:
            raise ValueError(f"imputation method {self.method} needs group: <iData column>")
        return self


class TreatmentSpec(_Frozen):
    """``treatment``: COINr's default outlier treatment, or none (the default here)."""

    method: TreatmentName = "none"
    winmax: Annotated[int, Field(ge=0, strict=True)] = 5
    skew_thresh: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] = 2.0
    kurt_thresh: Finite = 3.5
    log: LogName = "log_CT"
    overrides: dict[str, TreatmentOverride] = Field(default_factory=dict)

    def per_indicator(self) -> dict[str, dict[str, object]]:
        return {c: o.model_dump(exclude_none=True) for c, o in self.overrides.items()}


class NormalisationOverride(_Frozen):
    """Per-indicator normalisation keys; keys left out take the section's value."""

    method: NormalisationMethod | None = None
    lo: Finite | None = None
    hi: Finite | None = None
    mean: Finite | None = None
    sd: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] | None = None
    zero_range: Literal["nan", "midpoint"] | None = None
    goalposts: Pair | None = None
    truncate: bool | None = None
    target: Finite | None = None
    cap_max: bool | None = None


class NormalisationSpec(_Frozen):
    """``normalisation``: one method for all indicators, with per-indicator overrides.

    ``goalposts`` is one pair for all indicators or a mapping ``{iCode: [low, high]}``; when
    absent, the iMeta columns ``goalpost_lower``/``goalpost_upper`` are used (COINr's
    ``use_iMeta``). ``targets`` (dist2targ) likewise falls back to iMeta's ``Target``.
    """

    method: NormalisationMethod = "minmax"
    lo: Finite = 0.0
    hi: Finite = 100.0
    mean: Finite = 0.0
    sd: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] = 1.0
    zero_range: Literal["nan", "midpoint"] = "nan"
    goalposts: Pair | dict[str, Pair] | None = None
    truncate: bool = True
    targets: Finite | dict[str, Finite] | None = None
    cap_max: bool = False
    overrides: dict[str, NormalisationOverride] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.method not in ("zscore", "rank") and not self.lo < self.hi:
            raise ValueError(f"normalisation needs lo < hi, got lo={self.lo}, hi={self.hi}")
        return self


class LevelAggregationSpec(_Frozen):
    """One level's aggregation: a mean, or Copeland."""

    method: AggregationMethod = "arithmetic"
    p: Finite | None = None

    @model_validator(mode="after")
    def _valid(self) -> Self:
        self.level_method()
        return self

    def level_method(self) -> LevelMethod:
        return LevelMethod(self.method, self.p)


class AggregationSpec(LevelAggregationSpec):
    """``aggregation``: the method of every level, per-level exceptions, minimum coverage.

    ``levels`` maps the level of the aggregates being computed (2 = first level above the
    indicators) to its own ``{method, p}``. ``min_coverage`` is a share in [0, 1] for every
    aggregate or a mapping ``{aggregate iCode: share}``.
    """

    levels: dict[Annotated[int, Field(ge=2)], LevelAggregationSpec] = Field(default_factory=dict)
    min_coverage: Share | dict[str, Share] | None = None

    def methods(self, h: Hierarchy) -> dict[int, LevelMethod]:
        unknown = sorted(set(self.levels) - set(range(2, h.n_levels + 1)))
        if unknown:
            raise MethodFileError(
                f"aggregation.levels names level(s) {unknown}, but the index has aggregation "
                f"levels 2..{h.n_levels}."
            )
        return {lv: self.levels.get(lv, self).level_method() for lv in range(2, h.n_levels + 1)}

    def label(self) -> str:
        base = self.level_method().label
        if not self.levels:
            return base
        rest = ", ".join(f"L{k}: {v.level_method().label}" for k, v in sorted(self.levels.items()))
        return f"{base} ({rest})"


class RankingSpec(_Frozen):
    tie_decimals: Annotated[int, Field(ge=0, le=15)] | None = None


class UncertaintySpec(_Frozen):
    """``uncertainty``: the Monte Carlo design (see ``ideal.scoring.uncertainty``)."""

    n: Annotated[int, Field(ge=1, le=1_000_000)] = 1000
    seed: Annotated[int, Field(ge=0)] = 0
    target: str | None = None
    weights: WeightNoise | None = None
    imputation: list[ImputationSpec] = Field(default_factory=list)
    winmax: list[Annotated[int, Field(ge=0, strict=True)]] = Field(default_factory=list)
    normalisation: list[NormalisationSpec] = Field(default_factory=list)
    aggregation: list[AggregationSpec] = Field(default_factory=list)


class IndexMethod(_Frozen):
    """One ``method.yaml`` for ``ideal index``: every choice of the index build."""

    name: str = Field(default="index", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    version: str = "1"
    description: str = ""
    denominate: bool = False
    denominator_scale: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] = 1.0
    imputation: ImputationSpec = Field(default_factory=ImputationSpec)
    treatment: TreatmentSpec = Field(default_factory=TreatmentSpec)
    normalisation: NormalisationSpec = Field(default_factory=NormalisationSpec)
    aggregation: AggregationSpec = Field(default_factory=AggregationSpec)
    ranking: RankingSpec = Field(default_factory=RankingSpec)
    uncertainty: UncertaintySpec | None = None


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(top level)"
    more = len(exc.errors()) - 1
    tail = f" (and {more} more problem(s))" if more else ""
    return f"{where}: {err['msg']}{tail}"


def parse_index_method(raw: bytes, source: str = "method file") -> IndexMethod:
    """Validate the bytes of a method file; raises :class:`MethodFileError` in one line."""
    try:
        data = yaml.safe_load(raw.decode("utf-8")) if raw.strip() else {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MethodFileError(f"{source} is not valid YAML: {first}") from None
    if not isinstance(data, dict):
        raise MethodFileError(
            f"{source} must be a YAML mapping (normalisation:, aggregation: ...)."
        )
    try:
        return IndexMethod.model_validate(data)
    except ValidationError as exc:
        raise MethodFileError(f"{source}: {_first_error(exc)}") from None


def load_index_method(path: Path) -> tuple[IndexMethod, str]:
    """Read and validate a method file; returns the model and the sha256 of its bytes."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise MethodFileError(f"No method file at {path}.") from None
    return parse_index_method(raw, str(path)), hashlib.sha256(raw).hexdigest()


# --------------------------------------------------------------------------------------
# Reading COINr-style iData / iMeta files
# --------------------------------------------------------------------------------------


def read_imeta(path: Path) -> pd.DataFrame:
    """An iMeta CSV (``iCode, Level, Parent, Direction, Weight`` ...); "NA" counts as blank."""
    try:
        meta = pd.read_csv(path, keep_default_na=True)
    except FileNotFoundError:
        raise MethodFileError(f"No iMeta file at {path}.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise MethodFileError(f"Cannot read iMeta {path}: {str(exc).splitlines()[0]}") from None
    return meta


def read_idata(path: Path) -> pd.DataFrame:
    """An iData CSV with a ``uCode`` column (other columns: indicators, denominators,
    groups, ``Time``); returned as read, with ``uCode`` as text."""
    try:
        data = pd.read_csv(path)
    except FileNotFoundError:
        raise MethodFileError(f"No iData file at {path}.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise MethodFileError(f"Cannot read iData {path}: {str(exc).splitlines()[0]}") from None
    if "uCode" not in data.columns:
        raise MethodFileError(
            f"iData {path} has no uCode column; add one with a unique code per unit."
        )
    data["uCode"] = data["uCode"].astype(str)
    return data


@dataclass(frozen=True)
class PreparedData:
    """iData split into the cycle to build (indexed by uCode) and earlier time points."""

    current: pd.DataFrame
    previous: dict[str, pd.DataFrame]  # label -> frame, newest first (for 'latest')
    time: object | None


def prepare_idata(data: pd.DataFrame, time: object | None = None) -> PreparedData:
    """Index by uCode; with a ``Time`` column, keep ``time`` (default: the latest) as the
    current data and the earlier time points for imputation by the latest value."""
    if "Time" in data.columns and data["Time"].nunique(dropna=True) > 1:
        times = sorted(pd.unique(data["Time"].dropna()), reverse=True)
        target = times[0] if time is None else _match_time(time, times)
        current = data[data["Time"] == target]
        previous = {
            str(t): _by_unit(data[data["Time"] == t], f"Time {t}") for t in times if t < target
        }
        return PreparedData(_by_unit(current, f"Time {target}"), previous, target)
    if time is not None and "Time" in data.columns:
        rows = data[data["Time"].astype(str) == str(time)]
        if rows.empty:
            raise MethodFileError(f"iData has no rows with Time = {time}.")
        return PreparedData(_by_unit(rows, f"Time {time}"), {}, time)
    return PreparedData(_by_unit(data, "iData"), {}, None)


def _match_time(time: object, times: Sequence[object]) -> object:
    for t in times:
        if str(t) == str(time):
            return t
    raise MethodFileError(f"iData has no rows with Time = {time}; it has {list(times)}.")


def _by_unit(rows: pd.DataFrame, what: str) -> pd.DataFrame:
    dupes = sorted(set(rows.loc[rows["uCode"].duplicated(), "uCode"]))
    if dupes:
        raise MethodFileError(f"{what}: uCode(s) {dupes[:5]} appear more than once.")
    return rows.set_index("uCode")


# --------------------------------------------------------------------------------------
# Applying the method
# --------------------------------------------------------------------------------------


def _meta_column(meta: pd.DataFrame | None, column: str, codes: Sequence[str]) -> dict[str, float]:
    if meta is None or column not in meta.columns:
        return {}
    values = pd.to_numeric(meta.set_index(meta["iCode"].astype(str))[column], errors="coerce")
    return {c: float(values[c]) for c in codes if c in values.index and pd.notna(values[c])}


def _settings_of(spec: NormalisationSpec, code: str) -> dict[str, object]:
    base = spec.model_dump(exclude={"overrides", "goalposts", "targets"})
    override = spec.overrides.get(code)
    if override is not None:
        base.update(override.model_dump(exclude_none=True))
    return base


def normalise_spec(
    data: pd.DataFrame,
    meta: pd.DataFrame | Hierarchy,
    spec: NormalisationSpec,
    *,
    raw_meta: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Normalise every indicator with its own settings (section + override), grouping the
    indicators that share settings into one :func:`engine.normalise` call."""
    h = as_hierarchy(meta)
    codes = h.indicators
    unknown = sorted(set(spec.overrides) - set(codes))
    if unknown:
        raise MethodFileError(
            f"normalisation.overrides names code(s) that are not indicators of iMeta: {unknown}."
        )
    meta_low = _meta_column(raw_meta, "goalpost_lower", codes)
    meta_high = _meta_column(raw_meta, "goalpost_upper", codes)
    meta_target = _meta_column(raw_meta, "Target", codes)
    groups: dict[str, list[str]] = {}
    settings: dict[str, dict[str, object]] = {}
    for code in codes:
        s = _settings_of(spec, code)
        key = json.dumps(s, sort_keys=True, default=str)
        groups.setdefault(key, []).append(code)
        settings[key] = s
    parts = []
    for key, members in groups.items():
        s = settings[key]
        method = str(s["method"])
        posts: dict[str, tuple[float, float]] | None = None
        targets: dict[str, float] | None = None
        if method == "goalposts":
            posts = {c: _goalposts_for(spec, c, meta_low, meta_high) for c in members}
        if method == "dist2targ":
            targets = {c: _target_for(spec, c, meta_target) for c in members}
        parts.append(
            normalise(
                data,
                h,
                method,  # type: ignore[arg-type]
                float(s["lo"]),  # type: ignore[arg-type]
                float(s["hi"]),  # type: ignore[arg-type]
                zero_range=s["zero_range"],  # type: ignore[arg-type]
                goalposts=posts,
                truncate=bool(s["truncate"]),
                mean=float(s["mean"]),  # type: ignore[arg-type]
                sd=float(s["sd"]),  # type: ignore[arg-type]
                targets=targets,
                cap_max=bool(s["cap_max"]),
                indicators=members,
            )
        )
    return pd.concat(parts, axis=1)[codes]


def _goalposts_for(
    spec: NormalisationSpec, code: str, low: Mapping[str, float], high: Mapping[str, float]
) -> tuple[float, float]:
    override = spec.overrides.get(code)
    if override is not None and override.goalposts is not None:
        return override.goalposts
    if isinstance(spec.goalposts, dict):
        if code in spec.goalposts:
            return spec.goalposts[code]
    elif spec.goalposts is not None:
        return spec.goalposts
    if code in low and code in high:
        return low[code], high[code]
    raise MethodFileError(
        f"Goalpost normalisation of {code} needs goalposts: list them under "
        "normalisation.goalposts ({iCode: [low, high]}) or add goalpost_lower and "
        "goalpost_upper columns to iMeta."
    )


def _target_for(spec: NormalisationSpec, code: str, meta_target: Mapping[str, float]) -> float:
    override = spec.overrides.get(code)
    if override is not None and override.target is not None:
        return override.target
    if isinstance(spec.targets, dict):
        if code in spec.targets:
            return spec.targets[code]
    elif spec.targets is not None:
        return spec.targets
    if code in meta_target:
        return meta_target[code]
    raise MethodFileError(
        f"Distance-to-target normalisation of {code} needs a target: list it under "
        "normalisation.targets ({iCode: value}) or fill iMeta's Target column."
    )


def impute_spec(
    data: pd.DataFrame,
    h: Hierarchy,
    spec: ImputationSpec,
    previous: Mapping[str, pd.DataFrame] | None = None,
) -> ImputeResult:
    """Apply the ``imputation`` section (group column and earlier time points checked)."""
    if spec.method == "latest":
        frames = dict(previous or {})
        if not frames:
            raise MethodFileError(
                "imputation method latest needs earlier time points: give iData a Time "
                "column with several years (COINr panel format)."
            )
        if spec.max_time is not None:
            frames = dict(list(frames.items())[: spec.max_time])
        return impute(data, h, "latest", previous=frames)
    if spec.method.startswith("group_") and spec.group not in data.columns:
        raise MethodFileError(
            f"imputation.group {spec.group!r} is not a column of iData; available: "
            f"{[str(c) for c in data.columns][:10]}."
        )
    return impute(data, h, spec.method, groups=spec.group)


def denominated_previous(
    previous: Mapping[str, pd.DataFrame] | None, h: Hierarchy, spec: IndexMethod
) -> dict[str, pd.DataFrame] | None:
    """Earlier time points on the same footing as the current data (rates if denominated),
    so that the latest imputation copies comparable values."""
    if previous is None or not spec.denominate:
        return dict(previous) if previous is not None else None
    return {k: denominate(v, h, scale=spec.denominator_scale) for k, v in previous.items()}


def treat_spec(data: pd.DataFrame, h: Hierarchy, spec: TreatmentSpec) -> TreatResult:
    unknown = sorted(set(spec.overrides) - set(h.indicators))
    if unknown:
        raise MethodFileError(
            f"treatment.overrides names code(s) that are not indicators of iMeta: {unknown}."
        )
    return treat(
        data,
        h,
        method=spec.method,
        winmax=spec.winmax,
        skew_thresh=spec.skew_thresh,
        kurt_thresh=spec.kurt_thresh,
        log=spec.log,
        per_indicator=spec.per_indicator(),
    )


def check_data(data: pd.DataFrame, h: Hierarchy, spec: IndexMethod) -> None:
    """Name every iData column the method needs but the file lacks, in one message."""
    needed = list(h.indicators)
    if spec.denominate:
        needed += sorted({str(d) for d in h.table["Denominator"].dropna()})
    missing = [c for c in needed if c not in data.columns]
    if missing:
        shown = ", ".join(missing[:8]) + (
            f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        )
        raise MethodFileError(
            f"iData lacks column(s) {shown} named in iMeta; add them (empty where unknown)."
        )
    bad = [
        c
        for c in h.indicators
        if not pd.api.types.is_numeric_dtype(data[c]) and data[c].notna().any()
    ]
    if bad:
        raise MethodFileError(
            f"iData column(s) {bad[:5]} are not numeric; use '.' as the decimal mark and leave "
            "missing values empty."
        )


@dataclass(frozen=True)
class SpecResult:
    """Every stage of an index built from a method file."""

    index: IndexResult
    imputation: ImputeResult
    treatment: TreatResult


def prepare(
    data: pd.DataFrame,
    meta: pd.DataFrame,
    spec: IndexMethod,
    previous: Mapping[str, pd.DataFrame] | None = None,
) -> tuple[Hierarchy, pd.DataFrame, ImputeResult, TreatResult]:
    """Validate, denominate, impute and treat: the data ready to normalise."""
    h = validate_meta(meta)
    check_data(data, h, spec)
    prepared = denominate(data, h, scale=spec.denominator_scale) if spec.denominate else data
    imputed = impute_spec(prepared, h, spec.imputation, denominated_previous(previous, h, spec))
    treated = treat_spec(imputed.data, h, spec.treatment)
    return h, prepared, imputed, treated


def build_from_spec(
    data: pd.DataFrame,
    meta: pd.DataFrame,
    spec: IndexMethod,
    previous: Mapping[str, pd.DataFrame] | None = None,
) -> SpecResult:
    """Build the index the method file describes: denominate (if asked) -> impute -> treat
    -> normalise -> aggregate (per level) -> rank every aggregate (descending, ties "min").

    ``data`` is iData indexed by uCode; ``meta`` the raw iMeta (its optional ``Target``,
    ``goalpost_lower`` and ``goalpost_upper`` columns are read); ``previous`` holds
    earlier time points for the ``latest`` imputation.
    """
    h, prepared, imputed, treated = prepare(data, meta, spec, previous)
    normalised = normalise_spec(treated.data, h, spec.normalisation, raw_meta=meta)
    aggregated = aggregate(
        normalised,
        h,
        method=spec.aggregation.methods(h),
        min_coverage=coverage_thresholds(spec.aggregation, h),
    )
    decimals = spec.ranking.tie_decimals
    ranks = pd.DataFrame(
        {c: rank_desc(aggregated[c], decimals=decimals) for c in h.aggregates}, index=data.index
    )
    result = IndexResult(
        hierarchy=h, data=prepared, normalised=normalised, aggregated=aggregated, ranks=ranks
    )
    return SpecResult(index=result, imputation=imputed, treatment=treated)


def coverage_thresholds(spec: AggregationSpec, h: Hierarchy) -> float | dict[str, float] | None:
    if isinstance(spec.min_coverage, dict):
        unknown = sorted(set(spec.min_coverage) - set(h.aggregates))
        if unknown:
            raise MethodFileError(
                f"aggregation.min_coverage names code(s) that are not aggregates of iMeta: "
                f"{unknown}."
            )
    return spec.min_coverage
