"""Properties the engine must keep for any data and any tree (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ideal.scoring.engine import aggregate, normalise, rank_desc

FAST = settings(max_examples=60, deadline=None)

# Values on a 0.01 grid: real indicator values are reported to a few decimals, and a grid
# keeps min-max ranges far from catastrophic cancellation.
values = st.integers(min_value=-100_000, max_value=100_000).map(lambda i: i / 100)
maybe_values = st.one_of(values, values, values, st.just(float("nan")))


@st.composite
def index_case(draw: st.DrawFn, *, allow_nan: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A random tree (indicators -> pillars -> one root) and data over 2-8 units."""
    n_ind = draw(st.integers(2, 6))
    n_pillars = draw(st.integers(1, min(3, n_ind)))
    # Every pillar gets at least one indicator; the rest are assigned at random.
    parents = list(range(n_pillars)) + draw(
        st.lists(
            st.integers(0, n_pillars - 1), min_size=n_ind - n_pillars, max_size=n_ind - n_pillars
        )
    )
    weights = st.floats(min_value=0.1, max_value=10.0)
    rows = [
        (f"i{k}", 1, f"P{p}", draw(st.sampled_from([1, -1])), draw(weights))
        for k, p in enumerate(parents)
    ]
    rows += [(f"P{p}", 2, "I", 1, draw(weights)) for p in range(n_pillars)]
    rows.append(("I", 3, None, 1, 1.0))
    meta = pd.DataFrame(rows, columns=["iCode", "Level", "Parent", "Direction", "Weight"])
    n_units = draw(st.integers(2, 8))
    cell = maybe_values if allow_nan else values
    data = pd.DataFrame(
        {f"i{k}": draw(st.lists(cell, min_size=n_units, max_size=n_units)) for k in range(n_ind)},
        index=[f"u{u}" for u in range(n_units)],
    )
    return data, meta


def scores(data: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    return aggregate(normalise(data, meta), meta)


@FAST
@given(case=index_case(), pick=st.data(), delta=st.integers(1, 100_000).map(lambda i: i / 100))
def test_raising_a_more_is_worse_indicator_never_lowers_the_unit(
    case: tuple[pd.DataFrame, pd.DataFrame], pick: st.DataObject, delta: float
) -> None:
    data, meta = case
    j = pick.draw(st.integers(0, data.shape[1] - 1))
    unit = pick.draw(st.sampled_from(list(data.index)))
    code = f"i{j}"
    meta.loc[meta["iCode"] == code, "Direction"] = 1
    if np.isnan(data.loc[unit, code]):
        data.loc[unit, code] = 0.0
    raised = data.copy()
    raised.loc[unit, code] += delta
    before, after = scores(data, meta), scores(raised, meta)
    for element in ("I", meta.loc[meta["iCode"] == code, "Parent"].item()):
        b, a = before.loc[unit, element], after.loc[unit, element]
        if np.isnan(b):
            continue
        if np.isnan(a):
            # Raising the one lowest unit can leave every unit equal: the indicator then
            # has no spread and drops out (zero_range="nan"); NaN only if nothing is left.
            raised_col = raised[code].dropna()
            assert raised_col.max() == raised_col.min(), (element, b, a)
            continue
        assert a >= b - 1e-9, (element, b, a)


@FAST
@given(case=index_case(), pick=st.data(), c=st.floats(min_value=1e-3, max_value=1e3))
def test_minmax_is_invariant_to_the_unit_of_an_indicator(
    case: tuple[pd.DataFrame, pd.DataFrame], pick: st.DataObject, c: float
) -> None:
    data, meta = case
    code = f"i{pick.draw(st.integers(0, data.shape[1] - 1))}"
    rescaled = data.assign(**{code: data[code] * c})
    np.testing.assert_allclose(
        normalise(rescaled, meta).to_numpy(), normalise(data, meta).to_numpy(), atol=1e-7
    )


@FAST
@given(xs=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=30, unique=True))
def test_ranks_are_a_permutation_without_ties(xs: list[float]) -> None:
    ranks = rank_desc(pd.Series(xs))
    assert sorted(ranks.tolist()) == list(range(1, len(xs) + 1))
    assert ranks[int(np.argmax(xs))] == 1


@FAST
@given(case=index_case(), k=st.floats(min_value=1e-3, max_value=1e3))
def test_scaling_all_weights_leaves_scores_unchanged(
    case: tuple[pd.DataFrame, pd.DataFrame], k: float
) -> None:
    data, meta = case
    scaled = meta.assign(Weight=meta["Weight"] * k)
    np.testing.assert_allclose(
        scores(data, scaled).to_numpy(), scores(data, meta).to_numpy(), rtol=1e-9, atol=1e-9
    )


@FAST
@given(
    case=index_case(),
    lo=st.integers(-50, 50),
    width=st.integers(1, 200),
    method=st.sampled_from(["minmax", "goalposts"]),
    zero_range=st.sampled_from(["nan", "midpoint"]),
)
def test_normalised_values_lie_in_lo_hi(
    case: tuple[pd.DataFrame, pd.DataFrame], lo: int, width: int, method: str, zero_range: str
) -> None:
    data, meta = case
    hi = lo + width
    out = normalise(
        data,
        meta,
        method=method,  # type: ignore[arg-type]
        lo=lo,
        hi=hi,
        zero_range=zero_range,  # type: ignore[arg-type]
        goalposts=(-10.0, 10.0),
    ).to_numpy()
    present = out[~np.isnan(out)]
    assert ((present >= lo) & (present <= hi)).all()
    # Missing stays missing: normalisation never invents a value.
    assert np.isnan(out[np.isnan(data.to_numpy())]).all()
