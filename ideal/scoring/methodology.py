"""The versioned scoring methodology (``schemas/methodology/*.yaml``) as a frozen model.

What belongs here: the schema of the methodology file, its validation (including the
cross-check of indicator codes against the catalogue), loading with the file's sha256,
and small look-ups derived only from the methodology (an indicator's weight, its outlier
treatment settings, the Admiralty confidence of a grade pair). The formulas that use
these numbers live in ``ideal.scoring.threat``; docs/methodology.md documents both.
"""

from __future__ import annotations

import hashlib
import logging
import math
from pathlib import Path
from typing import Annotated, Literal, Self

import numpy as np
import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ideal.catalogue import Catalogue, load_catalogue
from ideal.config import METHODOLOGY_DIR

logger = logging.getLogger(__name__)

DEFAULT_METHODOLOGY = "clasi-1.0.yaml"
RELIABILITY_GRADES: tuple[str, ...] = ("A", "B", "C", "D", "E", "F")
CREDIBILITY_GRADES: tuple[int, ...] = (1, 2, 3, 4, 5, 6)
_SUM_TOL = 1e-9

Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
WinMax = Annotated[int, Field(ge=0, strict=True)]
TreatmentName = Literal["coinr_default", "none"]
LogName = Literal["log_CT", "log_CT_plus"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _catalogue_from(info: ValidationInfo) -> Catalogue | None:
    context = info.context
    if isinstance(context, dict):
        catalogue = context.get("catalogue")
        if isinstance(catalogue, Catalogue):
            return catalogue
    return None


class Weights(_Frozen):
    """Indicator weights within their block: ``default`` unless overridden by code."""

    default: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] = 1.0
    overrides: dict[str, NonNegative] = Field(default_factory=dict)

    @field_validator("overrides")
    @classmethod
    def _known_codes(cls, v: dict[str, float], info: ValidationInfo) -> dict[str, float]:
        catalogue = _catalogue_from(info)
        if catalogue is not None:
            unknown = sorted(set(v) - {i.code for i in catalogue.indicators})
            if unknown:
                raise ValueError(
                    f"weights.overrides names indicator(s) that are not in the catalogue: "
                    f"{unknown}. Use indicator codes from schemas/catalogue.yaml."
                )
        return v

    def weight_of(self, code: str) -> float:
        return float(self.overrides.get(code, self.default))


QuantitativeMethod = Literal["minmax", "prank", "goalposts"]


class QuantitativeNormalisation(_Frozen):
    """Normalisation of the quantitative rates (after treatment), onto ``[lo, hi]``.

    ``minmax`` and ``prank`` (percentile rank) are relative to the countries of the cycle;
    ``goalposts`` uses fixed posts per indicator (``goalposts``, in rate units), so scores
    stay comparable from cycle to cycle. Every method keeps scores on ``[lo, hi]``, which
    the spread threshold of the priority relies on.
    """

    method: QuantitativeMethod = "minmax"
    lo: float = 0.0
    hi: float = 100.0
    zero_range: Literal["nan", "midpoint"] = "nan"
    goalposts: dict[str, tuple[Finite, Finite]] = Field(default_factory=dict)
    truncate: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.lo < self.hi:
            raise ValueError(f"normalisation.quantitative needs lo < hi, got {self.lo}, {self.hi}")
        bad = sorted(c for c, (a, b) in self.goalposts.items() if not a < b)
        if bad:
            raise ValueError(f"normalisation.quantitative.goalposts need low < high: {bad}")
        return self

    @field_validator("goalposts")
    @classmethod
    def _known_codes(
        cls, v: dict[str, tuple[float, float]], info: ValidationInfo
    ) -> dict[str, tuple[float, float]]:
        catalogue = _catalogue_from(info)
        if catalogue is not None:
            by_code = catalogue.indicator_by_code
            unknown = sorted(c for c in v if c not in by_code or by_code[c].kind != "quantitative")
            if unknown:
                raise ValueError(
                    f"normalisation.quantitative.goalposts names code(s) that are not "
                    f"quantitative indicators of the catalogue: {unknown}."
                )
        return v

    def with_method(self, method: QuantitativeMethod) -> QuantitativeNormalisation:
        return self.model_copy(update={"method": method})


class ExpertNormalisation(_Frozen):
    method: Literal["goalposts"] = "goalposts"
    scale_min: float = 1.0
    scale_max: float = 10.0
    lo: float = 0.0
    hi: float = 100.0
    truncate: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.scale_min < self.scale_max:
            raise ValueError("normalisation.expert needs scale_min < scale_max")
        if not self.lo < self.hi:
            raise ValueError("normalisation.expert needs lo < hi")
        return self


class Normalisation(_Frozen):
    quantitative: QuantitativeNormalisation
    expert: ExpertNormalisation


class TreatmentOverride(_Frozen):
    """Outlier-treatment settings of one indicator; keys left out take the section's."""

    method: TreatmentName | None = None
    winmax: WinMax | None = None
    skew_thresh: Positive | None = None
    kurt_thresh: Finite | None = None
    log: LogName | None = None


class Treatment(_Frozen):
    """Outlier treatment of quantitative rates before normalisation (COINr's ``Treat()``).

    ``coinr_default``: pass if |skew| < ``skew_thresh`` or kurtosis < ``kurt_thresh``;
    else winsorise up to ``winmax`` points; else ``log`` of the original values.
    Expert items are never treated.
    """

    method: TreatmentName = "coinr_default"
    winmax: WinMax = 5
    skew_thresh: Positive = 2.0
    kurt_thresh: Finite = 3.5
    log: LogName = "log_CT"
    overrides: dict[str, TreatmentOverride] = Field(default_factory=dict)

    @field_validator("overrides")
    @classmethod
    def _known_quantitative_codes(
        cls, v: dict[str, TreatmentOverride], info: ValidationInfo
    ) -> dict[str, TreatmentOverride]:
        catalogue = _catalogue_from(info)
        if catalogue is None:
            return v
        by_code = catalogue.indicator_by_code
        unknown = sorted(set(v) - set(by_code))
        if unknown:
            raise ValueError(
                f"treatment.overrides names indicator(s) that are not in the catalogue: "
                f"{unknown}. Use indicator codes from schemas/catalogue.yaml."
            )
        expert = sorted(c for c in v if by_code[c].kind != "quantitative")
        if expert:
            raise ValueError(
                f"treatment.overrides names expert item(s) {expert}; only quantitative "
                "indicators are treated for outliers, so remove these entries."
            )
        return v

    def per_indicator(self) -> dict[str, dict[str, object]]:
        """The overrides as ``engine.treat(per_indicator=...)`` expects them."""
        return {c: o.model_dump(exclude_none=True) for c, o in self.overrides.items()}


class Blend(_Frozen):
    """Weights of the quantitative and expert blocks in a category score."""

    quantitative: Share
    expert: Share

    @model_validator(mode="after")
    def _sum_to_one(self) -> Self:
        total = self.quantitative + self.expert
        if not math.isclose(total, 1.0, abs_tol=_SUM_TOL):
            raise ValueError(
                f"category.blend weights must sum to 1, got {self.quantitative} + "
                f"{self.expert} = {total:g}. Adjust them so they add up to 1."
            )
        return self


class CategoryRule(_Frozen):
    blend: Blend
    min_quantitative_indicators: Annotated[int, Field(ge=1)] = 1
    min_blocks: Annotated[int, Field(ge=1, le=2)] = 1


class Confidence(_Frozen):
    """Admiralty grade factors; ``grade_confidence = reliability x credibility``."""

    reliability: dict[str, Share]
    credibility: dict[int, Share]

    @field_validator("reliability")
    @classmethod
    def _all_letters(cls, v: dict[str, float]) -> dict[str, float]:
        if set(v) != set(RELIABILITY_GRADES):
            raise ValueError(
                f"confidence.reliability must give a factor for exactly {list(RELIABILITY_GRADES)}"
                f", got {sorted(v)}"
            )
        return v

    @field_validator("credibility")
    @classmethod
    def _all_digits(cls, v: dict[int, float]) -> dict[int, float]:
        if set(v) != set(CREDIBILITY_GRADES):
            raise ValueError(
                f"confidence.credibility must give a factor for exactly {list(CREDIBILITY_GRADES)}"
                f", got {sorted(v)}"
            )
        return v

    def grade_confidence(self, reliability: pd.Series, credibility: pd.Series) -> pd.Series:
        """Confidence 0-1 of each value from its grades (missing grade = cannot be judged).

        Raises ValueError naming any grade outside A-F / 1-6.
        """
        rel = reliability.astype("string").str.strip().str.upper()
        rel = rel.fillna("F").replace("", "F")
        cred = pd.to_numeric(credibility, errors="coerce").fillna(6)
        bad_rel = sorted(set(rel) - set(RELIABILITY_GRADES))
        bad_cred = sorted(set(cred) - {float(g) for g in CREDIBILITY_GRADES})
        if bad_rel or bad_cred:
            raise ValueError(
                f"Unknown Admiralty grades: reliability {bad_rel}, credibility {bad_cred}. "
                "Reliability must be A-F and credibility 1-6."
            )
        r = rel.map(self.reliability).to_numpy(dtype=np.float64)
        c = cred.map({float(k): f for k, f in self.credibility.items()}).to_numpy(dtype=np.float64)
        return pd.Series(r * c, index=reliability.index, name="grade_confidence")


class PriorityWeights(_Frozen):
    severity: Share
    spread: Share
    trend: Share

    @model_validator(mode="after")
    def _sum_to_one(self) -> Self:
        total = self.severity + self.spread + self.trend
        if not math.isclose(total, 1.0, abs_tol=_SUM_TOL):
            raise ValueError(
                f"priority.weights must sum to 1 so that the priority stays on 0-100, got "
                f"{self.severity} + {self.spread} + {self.trend} = {total:g}."
            )
        return self


class Priority(_Frozen):
    weights: PriorityWeights
    spread_threshold: Annotated[float, Field(ge=0.0, le=100.0)] = 50.0
    trend_cap: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] = 1.0


class Ranking(_Frozen):
    tie_decimals: Annotated[int, Field(ge=0, le=15)] = 9


ThreatImputationMethod = Literal[
    "none", "mean", "median", "group_mean", "group_median", "last_cycle"
]


class Imputation(_Frozen):
    """Filling missing quantitative rates before treatment (expert items never).

    ``mean``/``median`` over the cycle's countries; ``group_*`` within the country's
    ``group`` (a column of core_ref__countries, e.g. subregion); ``last_cycle``: the same
    country's rate in the previous cycle.
    """

    method: ThreatImputationMethod = "none"
    group: str = "subregion"


class Drivers(_Frozen):
    """How many indicators are listed as drivers of each category's change."""

    top_n: Annotated[int, Field(ge=1, le=20)] = 3


class WeightNoise(_Frozen):
    """How weights are perturbed in the Monte Carlo.

    ``uniform``: each weight w becomes ``w (1 + noise U(-1, 1))`` (COINr
    ``get_noisy_weights``); ``dirichlet``: the shares of the weights within each parent
    are drawn from ``Dirichlet(concentration x nominal shares)`` (mean = nominal shares;
    larger concentration = closer to nominal). ``levels`` (general engine only): the
    iMeta levels whose weights are perturbed (default: all).
    """

    method: Literal["uniform", "dirichlet"] = "uniform"
    noise: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.25
    concentration: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] = 100.0
    levels: list[Annotated[int, Field(ge=1)]] | None = None


class ThreatAggregation(_Frozen):
    """A mean for the block and category levels (alternative of the uncertainty analysis)."""

    method: Literal["arithmetic", "geometric", "harmonic", "generalised"] = "arithmetic"
    p: Finite | None = None

    @model_validator(mode="after")
    def _p_only_for_generalised(self) -> Self:
        if (self.method == "generalised") != (self.p is not None) or self.p == 0:
            raise ValueError(
                "give p (a non-zero power) exactly when method is generalised, e.g. "
                "{method: generalised, p: 0.5}"
            )
        return self


class Uncertainty(_Frozen):
    """Monte Carlo of the regional priority ranking (Saisana, Saltelli & Tarantola 2005).

    Each replicate draws, independently and uniformly, one alternative per listed element
    (an empty list keeps that element at its nominal setting) and perturbed weights; the
    ranking of the categories is recomputed. ``n`` replicates, seeded by ``seed``.
    """

    enabled: bool = True
    n: Annotated[int, Field(ge=1, le=100_000)] = 1000
    seed: Annotated[int, Field(ge=0)] = 0
    weights: WeightNoise | None = None
    normalisation: list[QuantitativeMethod] = Field(default_factory=list)
    aggregation: list[ThreatAggregation] = Field(default_factory=list)
    winmax: list[Annotated[int, Field(ge=0, strict=True)]] = Field(default_factory=list)
    imputation: list[ThreatImputationMethod] = Field(default_factory=list)


class Methodology(_Frozen):
    """One methodology version: every number the threat scoring uses."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    version: str = Field(min_length=1)
    description: str = Field(min_length=1)
    weights: Weights
    treatment: Treatment
    normalisation: Normalisation
    category: CategoryRule
    confidence: Confidence
    priority: Priority
    ranking: Ranking
    imputation: Imputation = Field(default_factory=Imputation)
    drivers: Drivers = Field(default_factory=Drivers)
    uncertainty: Uncertainty | None = None

    @model_validator(mode="after")
    def _goalposts_cover(self, info: ValidationInfo) -> Self:
        """Goalposts, when used, must exist for every quantitative indicator."""
        catalogue = _catalogue_from(info)
        q = self.normalisation.quantitative
        used = q.method == "goalposts" or (
            self.uncertainty is not None and "goalposts" in self.uncertainty.normalisation
        )
        if catalogue is None or not used:
            return self
        missing = sorted(
            i.code
            for i in catalogue.indicators
            if i.kind == "quantitative" and i.code not in q.goalposts
        )
        if missing:
            raise ValueError(
                "goalpost normalisation is used, but normalisation.quantitative.goalposts "
                f"has no posts for {missing}. Derive them once from a base cycle (docs/"
                "methodology.md, §4) and list them in the file."
            )
        return self


def check_against_catalogue(method: Methodology, catalogue: Catalogue) -> Methodology:
    """Re-validate ``method`` with the catalogue's codes; raises pydantic ValidationError."""
    return Methodology.model_validate(method.model_dump(), context={"catalogue": catalogue})


def load_methodology(
    path: Path | None = None, *, catalogue: Catalogue | None = None
) -> tuple[Methodology, str]:
    """Read, validate and hash a methodology file (``clasi-1.0.yaml`` by default).

    Returns the model and the sha256 of the file's bytes. Indicator codes are checked
    against ``catalogue`` (the project's catalogue by default). Raises FileNotFoundError
    listing the available files, or pydantic ValidationError saying which key is wrong.
    """
    path = path if path is not None else METHODOLOGY_DIR / DEFAULT_METHODOLOGY
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        available = sorted(p.name for p in METHODOLOGY_DIR.glob("*.yaml"))
        raise FileNotFoundError(
            f"No methodology file at {path}. Available in {METHODOLOGY_DIR}: {available}."
        ) from None
    data = yaml.safe_load(raw.decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} must contain a YAML mapping (name, version, weights, ...).")
    cat = catalogue if catalogue is not None else load_catalogue()
    method = Methodology.model_validate(data, context={"catalogue": cat})
    digest = hashlib.sha256(raw).hexdigest()
    logger.debug("Loaded methodology %s %s (sha256 %s)", method.name, method.version, digest)
    return method, digest
