"""Country shapes for the report's map: the packaged asset and the script that made it.

What belongs here: reading ``ideal/report/assets/lac-50m.geo.json`` (the 33 member states
of Latin America and the Caribbean plus two unlabelled context shapes) and, for whoever
needs to regenerate it, building that file from world-atlas's ``countries-50m.json``
(Natural Earth 1:50m, public domain; see ``assets/README.md`` and ``assets/LICENSE``).

The asset is GeoJSON in longitude/latitude, simplified (Douglas-Peucker) and rounded so
that the map adds little to the report: the report must stay under 2 MB. Each feature
carries its ISO 3166 numeric id, whether it is a member (``member``), a point to place its
label or marker (``label_lon``/``label_lat``) and whether it is too small to see at the
report's scale (``small``: drawn as a marker as well as a shape).

Regenerate::

    .venv/bin/python -m ideal.report.mapdata PATH/TO/countries-50m.json
"""

from __future__ import annotations

import json
import logging
import math
import sys
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ASSET = "lac-50m.geo.json"
# ISO 3166-1 numeric codes of the 33 states of Latin America and the Caribbean.
MEMBERS: frozenset[str] = frozenset(
    [
        "032",
        "028",
        "044",
        "084",
        "068",
        "076",
        "052",
        "152",
        "170",
        "188",
        "192",
        "212",
        "214",
        "218",
        "308",
        "320",
        "328",
        "340",
        "332",
        "388",
        "659",
        "662",
        "484",
        "558",
        "591",
        "604",
        "600",
        "222",
        "740",
        "780",
        "858",
        "670",
        "862",
    ]
)
# Context only (drawn light, never labelled): Puerto Rico, and French Guiana cut out of
# France's multipolygon (the gap between Suriname and Brazil would otherwise confuse).
PUERTO_RICO = "630"
FRANCE = "250"
FRENCH_GUIANA = "254"
FRENCH_GUIANA_BOX = (-55.0, 1.5, -51.0, 6.5)  # lon min, lat min, lon max, lat max
# Simplification tolerance and rounding, in degrees (0.02° is about 2 km).
TOLERANCE = 0.02
DIGITS = 2
# Below this area (square degrees) a state is drawn as a marker too: a shape that small
# is invisible on an A4 page.
SMALL_AREA = 1.5
Point = tuple[float, float]
Ring = list[Point]


def load_shapes() -> list[dict[str, Any]]:
    """The GeoJSON features of the packaged asset (a fresh copy each call)."""
    return json.loads(_asset_text())["features"]  # type: ignore[no-any-return]


@cache
def _asset_text() -> str:
    return resources.files("ideal.report").joinpath("assets", ASSET).read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------
# Building the asset from world-atlas (run by hand; the result is committed)
# --------------------------------------------------------------------------------------
def _decode_arcs(topo: dict[str, Any]) -> list[Ring]:
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs: list[Ring] = []
    for arc in topo["arcs"]:
        x = y = 0
        ring: Ring = []
        for dx, dy in arc:  # delta-encoded, quantised
            x += dx
            y += dy
            ring.append((x * sx + tx, y * sy + ty))
        arcs.append(ring)
    return arcs


def _ring(arcs: list[Ring], indices: Sequence[int]) -> Ring:
    out: Ring = []
    for i in indices:
        points = arcs[i] if i >= 0 else arcs[~i][::-1]
        out.extend(points if not out else points[1:])
    return out


def _polygons(geometry: dict[str, Any], arcs: list[Ring]) -> list[list[Ring]]:
    if geometry["type"] == "Polygon":
        return [[_ring(arcs, r) for r in geometry["arcs"]]]
    if geometry["type"] == "MultiPolygon":
        return [[_ring(arcs, r) for r in poly] for poly in geometry["arcs"]]
    return []


def _area(ring: Ring) -> float:
    return abs(
        sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True))
        / 2
    )


def _centroid(ring: Ring) -> Point:
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(a) < 1e-12:
        return ring[0]
    return cx / (3 * a), cy / (3 * a)


def _simplify(points: Ring, tolerance: float) -> Ring:
    """Douglas-Peucker on an open polyline (iterative, so long coasts do not recurse deep)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x0, y0), (x1, y1) = points[first], points[last]
        dx, dy = x1 - x0, y1 - y0
        norm = math.hypot(dx, dy)
        worst, index = 0.0, -1
        for i in range(first + 1, last):
            px, py = points[i]
            if norm == 0:
                d = math.hypot(px - x0, py - y0)
            else:
                d = abs(dy * px - dx * py + x1 * y0 - y1 * x0) / norm
            if d > worst:
                worst, index = d, i
        if index >= 0 and worst > tolerance:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def _clean(ring: Ring) -> Ring | None:
    simplified = _simplify(ring, TOLERANCE)
    rounded: Ring = []
    for x, y in simplified:
        p = (round(x, DIGITS), round(y, DIGITS))
        if not rounded or rounded[-1] != p:
            rounded.append(p)
    if rounded and rounded[0] != rounded[-1]:
        rounded.append(rounded[0])
    return rounded if len(rounded) >= 4 else None


def build_asset(source: Path, dest: Path) -> int:
    """Write the asset from world-atlas ``countries-50m.json``; returns its size in bytes."""
    topo = json.loads(source.read_text(encoding="utf-8"))
    arcs = _decode_arcs(topo)
    features = []
    for geometry in topo["objects"]["countries"]["geometries"]:
        gid = str(geometry.get("id") or "")
        polygons = _polygons(geometry, arcs)
        if gid == FRANCE:
            lo_x, lo_y, hi_x, hi_y = FRENCH_GUIANA_BOX
            polygons = [
                p for p in polygons if all(lo_x <= x <= hi_x and lo_y <= y <= hi_y for x, y in p[0])
            ]
            gid = FRENCH_GUIANA
        elif gid not in MEMBERS and gid != PUERTO_RICO:
            continue
        if not polygons:
            continue
        # Label point: the centroid of the largest polygon (not of the whole country,
        # which for an archipelago can fall in the sea).
        largest = max(polygons, key=lambda p: _area(p[0]))
        total_area = sum(_area(p[0]) for p in polygons)
        lon, lat = _centroid(largest[0])
        kept = []
        for poly in polygons:
            rings = [r for r in (_clean(ring) for ring in poly) if r]
            if rings and len(rings[0]) >= 4:
                kept.append([[list(p) for p in r] for r in rings])
        if not kept:  # too small to survive simplification: keep the raw outer ring
            kept = [[[[round(x, DIGITS), round(y, DIGITS)] for x, y in largest[0]]]]
        features.append(
            {
                "type": "Feature",
                "id": gid,
                "properties": {
                    "id": gid,
                    "member": gid in MEMBERS,
                    "small": total_area < SMALL_AREA,
                    "label_lon": round(lon, DIGITS),
                    "label_lat": round(lat, DIGITS),
                },
                "geometry": {"type": "MultiPolygon", "coordinates": kept},
            }
        )
    features.sort(key=lambda f: str(f["id"]))
    found = {f["id"] for f in features} & MEMBERS
    if found != MEMBERS:
        raise ValueError(f"{source}: no shape for {sorted(MEMBERS - found)}")
    text = json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))
    dest.write_text(text + "\n", encoding="utf-8")
    logger.info("wrote %s: %d features, %d bytes", dest, len(features), len(text))
    return len(text)


if __name__ == "__main__":  # pragma: no cover - a maintenance script
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    target = Path(__file__).resolve().parent / "assets" / ASSET
    build_asset(Path(sys.argv[1]), target)
