"""The report's generated sentences: each top priority's rationale and what moved.

What belongs here: turning the numbers of ``ideal.report.data`` into short, localised
sentences (gettext messages of the ``ideal`` domain, numbers through the locale's
``Formatter``). Each sentence says both the word and the number it comes from, so a
reader can check one against the other, and nothing here invents a figure.

The returned strings are plain text: the template escapes them like any other value.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass

from ideal.report.data import TOP_N, Priority, ReportData
from ideal.report.i18n import Formatter


@dataclass(frozen=True)
class Move:
    """One category's change of place since the previous cycle (the summary's table)."""

    name: str
    rank: int
    previous_rank: int
    change: float | None
    entered_top: bool
    left_top: bool


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def rank_range(p: Priority, fmt: Formatter) -> str | None:
    """``2–4``-style 5-95 % rank interval, or None when not computed."""
    if p.q05_rank is None or p.q95_rank is None:
        return None
    low, high = fmt.number(p.q05_rank, 0), fmt.number(p.q95_rank, 0)
    return low if low == high else f"{low}–{high}"


def rationale(p: Priority, data: ReportData, t: gettext.NullTranslations, fmt: Formatter) -> str:
    """One line on why ``p`` ranks where it does: severity, spread, trend, confidence."""
    _ = t.gettext
    ngettext = t.ngettext
    parts = []
    sev = {
        "high": _("high severity where it occurs (%(value)s of 100)"),
        "moderate": _("moderate severity where it occurs (%(value)s of 100)"),
        "low": _("low severity where it occurs (%(value)s of 100)"),
    }
    if p.severity_word is not None:
        parts.append(sev[p.severity_word] % {"value": fmt.number(p.severity)})
    if p.n_assessed:
        parts.append(
            ngettext(
                "reaches %(num)d of %(total)d member country assessed (%(share)s)",
                "reaches %(num)d of %(total)d member countries assessed (%(share)s)",
                p.n_assessed,
            )
            % {
                "num": p.n_affected or 0,
                "total": p.n_assessed,
                "share": fmt.percent(p.spread_ratio),
            }
        )
    previous = data.cycle.previous_cycle_id
    if p.trend is not None and previous is not None:
        trend = {
            "up": _("rising since %(cycle)s (trend %(value)s, 50 = stable)"),
            "stable": _("stable since %(cycle)s (trend %(value)s, 50 = stable)"),
            "down": _("falling since %(cycle)s (trend %(value)s, 50 = stable)"),
        }[p.trend]
        parts.append(trend % {"cycle": previous, "value": fmt.number(p.trend_0_100, 0)})
    else:
        parts.append(_("no earlier cycle to show a trend"))
    if p.confidence is not None:
        conf = {
            "high": _("high confidence (%(value)s)"),
            "medium": _("medium confidence (%(value)s)"),
            "low": _("low confidence (%(value)s)"),
        }[p.confidence]
        parts.append(conf % {"value": fmt.percent(p.confidence_0_1)})
    span = rank_range(p, fmt)
    if span is not None and p.p_top3 is not None:
        parts.append(
            _("ranked %(range)s in 90%% of the simulations, in the top 3 in %(share)s of them")
            % {"range": span, "share": fmt.percent(p.p_top3)}
        )
    return _cap("; ".join(parts)) + "."


def moves(data: ReportData) -> list[Move]:
    """Every category whose place changed, largest move first."""
    out = []
    for p in data.priorities:
        if p.previous_rank is None or p.previous_rank == p.rank:
            continue
        out.append(
            Move(
                name=p.name,
                rank=p.rank,
                previous_rank=p.previous_rank,
                change=p.change,
                entered_top=p.rank <= TOP_N < p.previous_rank,
                left_top=p.previous_rank <= TOP_N < p.rank,
            )
        )
    return sorted(out, key=lambda m: (-abs(m.previous_rank - m.rank), m.rank))


def headlines(data: ReportData, t: gettext.NullTranslations, fmt: Formatter) -> list[str]:
    """The few sentences on what moved since the previous cycle (empty without one)."""
    _ = t.gettext
    previous = data.cycle.previous_cycle_id
    if previous is None or not any(p.previous_rank is not None for p in data.priorities):
        return []
    out = []
    moved = moves(data)
    entered = [m for m in moved if m.entered_top]
    left = [m for m in moved if m.left_top]
    for m in entered:
        out.append(
            _("%(name)s entered the top 3 (rank %(before)s in %(cycle)s, now %(now)s).")
            % {"name": m.name, "before": m.previous_rank, "cycle": previous, "now": m.rank}
        )
    for m in left:
        out.append(
            _("%(name)s left the top 3 (rank %(before)s in %(cycle)s, now %(now)s).")
            % {"name": m.name, "before": m.previous_rank, "cycle": previous, "now": m.rank}
        )
    if not entered and not left:
        out.append(_("The top 3 are the same categories as in %(cycle)s.") % {"cycle": previous})
    changes = [p for p in data.priorities if p.change is not None]
    if changes:
        up = max(changes, key=lambda p: (p.change or 0.0, -p.rank))
        down = min(changes, key=lambda p: (p.change or 0.0, p.rank))
        if (up.change or 0.0) > 0:
            out.append(
                _("Largest rise: %(name)s, %(change)s points (from %(before)s to %(now)s).")
                % {
                    "name": up.name,
                    "change": fmt.signed(up.change),
                    "before": fmt.number(up.previous),
                    "now": fmt.number(up.priority),
                }
            )
        if (down.change or 0.0) < 0:
            out.append(
                _("Largest fall: %(name)s, %(change)s points (from %(before)s to %(now)s).")
                % {
                    "name": down.name,
                    "change": fmt.signed(down.change),
                    "before": fmt.number(down.previous),
                    "now": fmt.number(down.priority),
                }
            )
    return out


def element_name(element: str, t: gettext.NullTranslations) -> str:
    """A sensitivity analysis's uncertain choice in words (its code if unknown)."""
    _ = t.gettext
    known = {
        "weights": _("the weights"),
        "priority_weights": _("the weights of the priority formula"),
        "normalisation": _("the normalisation method"),
        "normalization": _("the normalisation method"),
        "aggregation": _("the aggregation method"),
        "winsorisation": _("the outlier treatment"),
        "winmax": _("the winsorisation limit"),
        "treatment": _("the outlier treatment"),
        "imputation": _("imputation of missing values"),
        "blend": _("the blend of quantitative and expert scores"),
        "spread_threshold": _("the threshold for an affected country"),
    }
    return known.get(element, element)
