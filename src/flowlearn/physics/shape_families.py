"""Random obstacle families for flow-surrogate datasets (Guo, Li & Iorio, KDD 2016 style).

Train on the primitive :data:`TRAIN_FAMILIES` and the regimes of :data:`EXTRA_TRAIN_FAMILIES`
(slender bodies, scenes of two or three bodies, bodies with sharp concave corners; the default
run trains on :data:`DEFAULT_TRAIN_FAMILIES`: the primitives, slender bodies and scenes),
measure generalisation on the unseen :data:`HELDOUT_FAMILIES`. No training family is built to
resemble a held-out one: the held-out airfoils, stars, pairs, crescents, gears, C/U shapes and
triples of overlapping bodies judge what a training regime buys on shapes it does not aim at.
:func:`random_shape` draws one body placed in the channel ``[0, nx] x [0, ny]`` (lattice cell
units, x streamwise, cell centres at ``i + 0.5``).

The constructors return :class:`~flowlearn.physics.geometry.Shape` objects whose SDF is exact
for their polygon; :func:`ellipse` and :func:`fourier_blob` are inscribed polygons of the smooth
curve (error of order ``r (pi / n)**2 / 2``). Bad parameters raise
:class:`~flowlearn.physics.geometry.ShapeError`.
"""

from __future__ import annotations

import dataclasses
import math
import operator
from collections.abc import Sequence

import numpy as np

from flowlearn.physics import geometry
from flowlearn.physics.geometry import Shape, ShapeError

TRAIN_FAMILIES = ("circle", "ellipse", "rectangle", "triangle", "polygon", "blob")
#: Training regimes beyond one convex-ish primitive: ``slender`` (thin ellipses and flat plates
#: at incidence, long and 2-8 cells tall), ``multi`` (scenes of two or three bodies of the
#: primitive families at random gaps and offsets), ``concave`` (L, T and cross shapes of two
#: rectangles: sharp concave corners).
EXTRA_TRAIN_FAMILIES = ("slender", "multi", "concave")
#: The default run's training distribution. ``concave`` is opt-in: measured at equal data, it
#: helped only the held-out families that resemble it (crescents, C/U shapes) and cost the
#: others (pairs, airfoils, the drag): not a gain (README, "what each regime buys").
DEFAULT_TRAIN_FAMILIES = (*TRAIN_FAMILIES, "slender", "multi")
#: Never trained on: airfoils, stars and pairs, and the families no training regime aims at
#: (crescents, gears with teeth, C and U shapes with deep concavities, unions of three
#: overlapping or touching bodies).
HELDOUT_FAMILIES = ("naca", "star", "pair", "crescent", "gear", "cshape", "triple")
FAMILIES = TRAIN_FAMILIES + EXTRA_TRAIN_FAMILIES + HELDOUT_FAMILIES

EXTENT = (0.15, 0.30)  # body y-extent (the solver's Reynolds length), fraction of ny
CENTRE_X = (0.20, 0.35)  # bounding-box centre x, fraction of nx
CENTRE_Y = 0.08  # largest |bounding-box centre y - ny / 2|, fraction of ny
MARGIN = 2.0  # cells kept free to every side of the domain
INLET_GAP = 4.0  # cells kept free before the body when nx >= 32 (a drag control volume fits)
WALL_GAP = 3.0  # cells kept free to the north / south walls (2 when ny < 16)
WAKE = 0.30  # fraction of nx kept free behind the body (outlet side)
MAX_DRAWS = 100
_TWO_PI = 2.0 * math.pi


def rotate(points: np.ndarray, angle_deg: float, about: Sequence[float] = (0.0, 0.0)):
    """Points ``(N, 2)`` rotated counter-clockwise by ``angle_deg`` about ``about``."""
    p = np.asarray(points, dtype=float)
    c = np.asarray(about, dtype=float)
    a = math.radians(angle_deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return (p - c) @ rot.T + c


def translate(shape: Shape, offset: Sequence[float]) -> Shape:
    """``shape`` moved by ``offset`` (2,); same name, exact SDF if the original's is."""
    off = np.asarray(offset, dtype=float)
    inner = shape.sdf
    lo, hi = shape.bounds

    def sdf(p: np.ndarray) -> np.ndarray:
        return inner(np.asarray(p, dtype=float) - off)

    return Shape(shape.name, sdf, (np.asarray(lo) + off, np.asarray(hi) + off))


def union(*shapes: Shape, name: str = "union") -> Shape:
    """Union of ``shapes``: SDF = min of the SDFs (exact outside, and inside disjoint bodies);
    bounds = union of the bounds."""
    if not shapes:
        raise ShapeError("union needs at least one shape, got none")
    sdfs = [s.sdf for s in shapes]

    def sdf(p: np.ndarray) -> np.ndarray:
        return np.min([f(p) for f in sdfs], axis=0)

    lo = np.min([s.bounds[0] for s in shapes], axis=0)
    hi = np.max([s.bounds[1] for s in shapes], axis=0)
    return Shape(name, sdf, (lo, hi))


def _polar(theta: np.ndarray, r: np.ndarray) -> np.ndarray:
    return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)


def _ellipse_v(a: float, b: float, angle_deg: float, n: int) -> np.ndarray:
    t = _TWO_PI * np.arange(n) / n
    return rotate(np.stack([a * np.cos(t), b * np.sin(t)], axis=1), angle_deg)


def _rect_v(w: float, h: float, angle_deg: float) -> np.ndarray:
    return rotate(0.5 * np.array([[-w, -h], [w, -h], [w, h], [-w, h]]), angle_deg)


def _star_v(r_outer: float, r_inner: float, points: int, angle_deg: float) -> np.ndarray:
    t = math.radians(angle_deg) + math.pi / 2 + math.pi * np.arange(2 * points) / points
    return _polar(t, np.where(np.arange(2 * points) % 2 == 0, r_outer, r_inner))


def _blob_r(radius: float, coeffs: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    t = _TWO_PI * np.arange(n) / n
    k = np.arange(1, len(coeffs) + 1)[:, None]
    r = radius * (1.0 + (coeffs[:, :1] * np.cos(k * t + coeffs[:, 1:])).sum(axis=0))
    return t, r


def ellipse(
    center: Sequence[float], a: float, b: float, angle_deg: float = 0.0, n: int = 96
) -> Shape:
    """Ellipse of semi-axes ``a`` (x before rotation) and ``b``, turned ``angle_deg``
    counter-clockwise: the inscribed ``n``-gon (vertices on both axes when ``n % 4 == 0``)."""
    if not (a > 0 and b > 0):
        raise ShapeError(f"ellipse semi-axes a = {a}, b = {b} must be positive")
    if n < 8:
        raise ShapeError(f"ellipse needs n >= 8 vertices, got {n}")
    return geometry.polygon(np.asarray(center, float) + _ellipse_v(a, b, angle_deg, n), "ellipse")


def rectangle(
    center: Sequence[float], width: float, height: float, angle_deg: float = 0.0
) -> Shape:
    """Rectangle ``width`` (x before rotation) x ``height``, turned ``angle_deg``; exact SDF."""
    if not (width > 0 and height > 0):
        raise ShapeError(f"rectangle width {width} and height {height} must be positive")
    return geometry.polygon(
        np.asarray(center, float) + _rect_v(width, height, angle_deg), "rectangle"
    )


def triangle(
    center: Sequence[float], radius: float, angles_deg: Sequence[float] = (90.0, 210.0, 330.0)
) -> Shape:
    """Triangle inscribed in the circle (``center``, ``radius``) with vertices at the polar
    angles ``angles_deg`` (default: equilateral, apex up); exact SDF."""
    if not radius > 0:
        raise ShapeError(f"triangle radius {radius} must be positive")
    t = np.radians(np.asarray(angles_deg, dtype=float))
    if t.shape != (3,):
        raise ShapeError(f"a triangle needs 3 vertex angles, got {t.size}")
    return geometry.polygon(np.asarray(center, float) + _polar(t, np.full(3, radius)), "triangle")


def regular_star(
    center: Sequence[float],
    r_outer: float,
    r_inner: float,
    points: int = 5,
    angle_deg: float = 0.0,
) -> Shape:
    """Star with ``points`` tips at ``r_outer`` and notches at ``r_inner`` (first tip up at
    ``angle_deg = 0``); exact SDF."""
    if not 0 < r_inner < r_outer:
        raise ShapeError(f"star radii need 0 < r_inner ({r_inner}) < r_outer ({r_outer})")
    if points < 3:
        raise ShapeError(f"a star needs at least 3 points, got {points}")
    v = _star_v(r_outer, r_inner, int(points), angle_deg)
    return geometry.polygon(np.asarray(center, float) + v, "star")


def fourier_blob(center: Sequence[float], radius: float, coeffs: np.ndarray, n: int = 128) -> Shape:
    """Star-shaped blob ``r(t) = radius (1 + sum_k a_k cos(k t + phi_k))``, ``k = 1..K``,
    with ``coeffs`` ``(K, 2)`` rows ``(a_k, phi_k)``; the inscribed ``n``-gon. Raises
    :class:`ShapeError` unless ``r > 0.3 radius`` everywhere (``sum |a_k| < 0.7`` is safe)."""
    c = np.asarray(coeffs, dtype=float)
    if c.ndim != 2 or c.shape[1] != 2:
        raise ShapeError(f"blob coeffs must have shape (K, 2), got {c.shape}")
    if not radius > 0:
        raise ShapeError(f"blob radius {radius} must be positive")
    if n < 16:
        raise ShapeError(f"blob needs n >= 16 vertices, got {n}")
    t, r = _blob_r(radius, c, n)
    if r.min() <= 0.3 * radius:
        raise ShapeError(
            f"blob radius falls to {r.min() / radius:.3g} r0, not above 0.3 r0: "
            "lower the amplitudes a_k"
        )
    return geometry.polygon(np.asarray(center, float) + _polar(t, r), "blob")


def _fit(v: np.ndarray, h: float) -> np.ndarray:
    """Vertices scaled to y-extent ``h`` with their bounding box centred on the origin."""
    v = v * (h / np.ptp(v[:, 1]))
    return v - 0.5 * (v.min(axis=0) + v.max(axis=0))


def _body(family: str, rng: np.random.Generator, h: float) -> Shape:
    """A random single body of ``family`` with y-extent ``h``, bounding box centred on 0."""
    u = rng.uniform
    if family == "circle":
        return dataclasses.replace(geometry.circle((0.0, 0.0), h / 2), name="circle")
    if family == "ellipse":
        v = _ellipse_v(u(1.0, 2.5), 1.0, u(0.0, 180.0), 96)
    elif family == "rectangle":
        v = _rect_v(u(0.5, 2.0), 1.0, u(0.0, 180.0))
    elif family == "triangle":  # arcs >= 72 deg between vertices: every angle >= 36 deg
        t = u(0.0, _TWO_PI) + _TWO_PI * np.cumsum(0.2 + 0.4 * rng.dirichlet(np.ones(3)))
        v = _polar(t, np.ones(3))
    elif family == "polygon":  # jittered sorted angles, gaps < 180 deg: star-shaped, simple
        k = int(rng.integers(5, 10))
        t = u(0.0, _TWO_PI) + _TWO_PI * (np.arange(k) + u(-0.35, 0.35, k)) / k
        v = _polar(t, u(0.55, 1.0, k))
    elif family == "blob":  # sum of amplitudes <= 0.55 keeps r >= 0.45 r0
        k = int(rng.integers(2, 6))
        amp = u(0.0, 1.0, k) / np.arange(1, k + 1)
        amp *= u(0.15, 0.55) / amp.sum()
        v = _polar(*_blob_r(1.0, np.stack([amp, u(0.0, _TWO_PI, k)], axis=1), 128))
    elif family == "star":
        v = _star_v(1.0, u(0.4, 0.65), int(rng.integers(4, 8)), u(0.0, 360.0))
    elif family == "crescent":
        v = _crescent_v(rng)
    elif family == "gear":
        v = _gear_v(rng)
    elif family == "cshape":
        v = _cshape_v(rng)
    else:  # pragma: no cover - guarded by random_shape
        raise ValueError(f"no single-body family {family!r}")
    return geometry.polygon(_fit(v, h), family)


def _naca(rng: np.random.Generator, ny: int) -> Shape:
    """NACA mpxx (m 0-4, p 2-6, t 08-18), chord 0.3-0.5 ny, incidence +-15 deg, y-extent
    capped at 0.3 ny (its lower end is the airfoil's own, often below 0.15 ny)."""
    code = f"{rng.integers(0, 5)}{rng.integers(2, 7)}{rng.integers(8, 19):02d}"
    chord, aoa = rng.uniform(0.3, 0.5) * ny, rng.uniform(-15.0, 15.0)
    s = geometry.naca4(code, chord, aoa, n_points=80)
    ext = s.bounds[1][1] - s.bounds[0][1]
    if ext > EXTENT[1] * ny:
        s = geometry.naca4(code, chord * EXTENT[1] * ny / ext, aoa, n_points=80)
    s = translate(s, -0.5 * (s.bounds[0] + s.bounds[1]))
    return dataclasses.replace(s, name="naca")


def _slender(rng: np.random.Generator, ny: int) -> Shape:
    """A thin ellipse or a flat plate (even odds): length 0.3-0.5 ny, thickness 6-25 % of the
    length, incidence +-20 deg; at most 0.29 ny tall (0.5 sin 20 + 0.125 cos 20).

    The six default families are all 0.15-0.3 ny tall and at most 2.5x longer than tall; an
    airfoil is 2-8 cells tall on a 64-cell channel and 3-9x longer. These primitives cover
    that regime (round and sharp edges alike) without being airfoils: no camber, no
    round-nose / sharp-tail profile.
    """
    length = rng.uniform(0.3, 0.5) * ny
    thickness, angle = rng.uniform(0.06, 0.25) * length, rng.uniform(-20.0, 20.0)
    if rng.random() < 0.5:
        v = _ellipse_v(length / 2, thickness / 2, angle, 96)
    else:
        v = _rect_v(length, thickness, angle)
    return geometry.polygon(v - 0.5 * (v.min(axis=0) + v.max(axis=0)), "slender")


def _pair(rng: np.random.Generator, h: float) -> list[Shape]:
    """Two circle / ellipse / rectangle bodies, in tandem or side by side, >= 1 cell apart;
    total y-extent ``h``."""
    kinds = [("circle", "ellipse", "rectangle")[i] for i in rng.integers(0, 3, 2)]
    if rng.random() < 0.5:  # tandem: one behind the other
        h2 = h * rng.uniform(0.5, 0.9)
        a, b = _body(kinds[0], rng, h), _body(kinds[1], rng, h2)
        gap = max(1.0, h * rng.uniform(0.3, 1.0))
        dy = rng.uniform(-1.0, 1.0) * (h - h2) / 2
        return [
            translate(a, (-gap / 2 - a.bounds[1][0], 0.0)),
            translate(b, (gap / 2 - b.bounds[0][0], dy)),
        ]
    gap = max(1.0, h * rng.uniform(0.15, 0.3))  # side by side
    h1 = (h - gap) * rng.uniform(0.4, 0.6)
    a, b = _body(kinds[0], rng, h1), _body(kinds[1], rng, h - gap - h1)
    dx = rng.uniform(-0.5, 0.5) * h
    return [
        translate(a, (0.0, -gap / 2 - a.bounds[1][1])),
        translate(b, (dx, gap / 2 - b.bounds[0][1])),
    ]


def _arc(radius: float, centre: Sequence[float], start: float, stop: float, n: int) -> np.ndarray:
    """``n`` points of the circle (``centre``, ``radius``) from angle ``start`` to ``stop``
    (radians, either direction), both ends included."""
    return np.asarray(centre, float) + _polar(np.linspace(start, stop, n), np.full(n, radius))


def _crescent_v(rng: np.random.Generator) -> np.ndarray:
    """A unit circle less an offset circle of radius r at distance d (the two cross): the outer
    arc round the back, the inner arc back through the bite; horns as sharp as the circles
    make them."""
    r = rng.uniform(0.6, 0.95)
    d = rng.uniform(max(0.3, 1.08 - r), 0.8)
    x0 = (1.0 - r * r + d * d) / (2.0 * d)
    y0 = math.sqrt(max(1.0 - x0 * x0, 1e-6))
    t0, s0 = math.atan2(y0, x0), math.atan2(y0, x0 - d)
    outer = _arc(1.0, (0.0, 0.0), t0, _TWO_PI - t0, 48)
    inner = _arc(r, (d, 0.0), _TWO_PI - s0, s0, 32)[1:-1]
    return rotate(np.concatenate([outer, inner]), rng.uniform(0.0, 360.0))


def _gear_v(rng: np.random.Generator) -> np.ndarray:
    """A gear: 6-12 trapezoidal teeth on a root circle at 0.65-0.85 of the tip radius."""
    k, root = int(rng.integers(6, 13)), rng.uniform(0.65, 0.85)
    top = rng.uniform(0.25, 0.45)  # fraction of a pitch at the tip
    frac = np.array([0.0, 0.5 - top / 2 - 0.1, 0.5 - top / 2, 0.5 + top / 2])
    t = rng.uniform(0.0, _TWO_PI) + _TWO_PI * (np.arange(k)[:, None] + frac[None, :]) / k
    r = np.tile([root, root, 1.0, 1.0], k)
    return _polar(t.ravel(), r)


def _cshape_v(rng: np.random.Generator) -> np.ndarray:
    """A C (thick arc open over 50-120 deg) or a U (a block with a slot 50-85 % deep), even
    odds, turned at random: one deep concavity facing any way."""
    if rng.random() < 0.5:
        inner, half = rng.uniform(0.45, 0.7), math.radians(rng.uniform(25.0, 60.0))
        v = np.concatenate(
            [
                _arc(1.0, (0, 0), half, _TWO_PI - half, 40),
                _arc(inner, (0, 0), -half, half - _TWO_PI, 28),
            ]
        )
    else:
        w, slot, depth = rng.uniform(0.8, 1.6), rng.uniform(0.35, 0.6), rng.uniform(0.5, 0.85)
        s = slot * w / 2
        v = np.array(
            [
                [-w / 2, -0.5],
                [w / 2, -0.5],
                [w / 2, 0.5],
                [s, 0.5],
                [s, 0.5 - depth],
                [-s, 0.5 - depth],
                [-s, 0.5],
                [-w / 2, 0.5],
            ]
        )
    return rotate(v, rng.uniform(0.0, 360.0))


def _concave(rng: np.random.Generator, h: float) -> list[Shape]:
    """An L, T or cross of two rectangles (arm thickness 20-45 % of the arm's length), turned
    at random, y-extent ``h``: sharp concave corners on a body of one piece."""
    a_len, b_len = 1.0, rng.uniform(0.6, 1.0)
    a_t, b_t = rng.uniform(0.2, 0.45) * a_len, rng.uniform(0.2, 0.45) * b_len
    along = rng.choice([0.0, rng.uniform(0.25, 0.75), 0.5])  # L, T, cross (or skewed T)
    across = 0.5 * b_len - 0.5 * a_t if rng.random() < 0.5 else 0.0  # T/L or cross
    a = _rect_v(a_len, a_t, 0.0)
    b = _rect_v(b_t, b_len, 0.0) + np.array([(along - 0.5) * a_len + 0.5 * b_t, across])
    angle = rng.uniform(0.0, 360.0)
    a, b = rotate(a, angle), rotate(b, angle)
    both = np.concatenate([a, b])
    scale = h / np.ptp(both[:, 1])
    centre = 0.5 * (both.min(axis=0) + both.max(axis=0))
    return [geometry.polygon((v - centre) * scale, "concave") for v in (a, b)]


def _cluster(
    rng: np.random.Generator,
    h: float,
    kinds: Sequence[str],
    box: tuple[float, float],
    gap: float,
    size: tuple[float, float],
) -> list[Shape] | None:
    """Bodies of ``kinds`` (each ``size`` x ``h`` tall) at random places in a ``box`` (x, y
    spans, in units of ``h``) about the origin; with ``gap >= 0`` their bounding boxes keep
    ``gap`` cells apart (None if 30 tries fail), with ``gap < 0`` they may overlap."""
    parts: list[Shape] = []
    for kind in kinds:
        body = _body(kind, rng, h * rng.uniform(*size))
        for _ in range(30):
            at = rng.uniform(-0.5, 0.5, 2) * np.asarray(box) * h
            moved = translate(body, at)
            lo, hi = moved.bounds
            if gap < 0 or all(
                np.any((lo - gap > p.bounds[1]) | (hi + gap < p.bounds[0])) for p in parts
            ):
                parts.append(moved)
                break
        else:
            return None
    return parts


def _multi(rng: np.random.Generator, h: float) -> list[Shape]:
    """Two or three bodies of the primitive families (each 0.5-1 h tall), apart (>= 1 cell
    between their bounding boxes), in tandem, side by side or staggered: centres in a 1.6-3 h
    long, 1-1.6 h tall box."""
    count = int(rng.integers(2, 4))
    kinds = [TRAIN_FAMILIES[i] for i in rng.integers(0, len(TRAIN_FAMILIES), count)]
    box = (rng.uniform(1.6, 3.0), rng.uniform(1.0, 1.6))
    for _ in range(10):
        parts = _cluster(rng, h, kinds, box, gap=1.0, size=(0.5, 1.0))
        if parts is not None:
            return parts
    return [_body(kinds[0], rng, h)]


def _triple(rng: np.random.Generator, h: float) -> list[Shape]:
    """Three circles, ellipses, rectangles or triangles thrown into a 1.4 h x 0.9 h box:
    mostly overlapping or touching, a compound body with the bays that leaves."""
    kinds = [("circle", "ellipse", "rectangle", "triangle")[i] for i in rng.integers(0, 4, 3)]
    parts = _cluster(rng, h, kinds, (1.4, 0.9), gap=-1.0, size=(0.5, 0.9))
    assert parts is not None  # overlap allowed: never fails
    return parts


def _covers_cell(shape: Shape, nx: int, ny: int) -> bool:
    """Whether some cell centre of the ``nx`` x ``ny`` grid lies inside ``shape``."""
    lo, hi = shape.bounds
    x, y = np.arange(nx) + 0.5, np.arange(ny) + 0.5
    x, y = x[(x >= lo[0]) & (x <= hi[0])], y[(y >= lo[1]) & (y <= hi[1])]
    if not (x.size and y.size):
        return False
    xx, yy = np.meshgrid(x, y)
    return bool((shape.sdf(np.stack([xx.ravel(), yy.ravel()], axis=1)) < 0).any())


def _grid(grid: Sequence[int]) -> tuple[int, int]:
    try:
        nx, ny = (operator.index(g) for g in grid)
    except (TypeError, ValueError):
        raise ValueError(f"grid must be a pair of integers (nx, ny), got {grid!r}") from None
    if nx < 16 or ny < 8:
        raise ValueError(f"grid {nx} x {ny} is smaller than the minimum 16 x 8 cells")
    return nx, ny


def random_shape(family: str, rng: np.random.Generator, grid: tuple[int, int]) -> Shape:
    """A random body of ``family`` placed in the ``grid = (nx, ny)`` channel; named ``family``.

    y-extent uniform in ``EXTENT * ny`` (naca, slender: length 0.3-0.5 ny, y-extent <= 0.3 ny;
    multi, triple: a cluster of bodies each 0.5-1 of it); bounding-box centre x uniform in
    ``CENTRE_X * nx`` and y within ``CENTRE_Y * ny`` of mid-channel, shifted just enough to
    keep ``INLET_GAP`` cells to the inlet (``MARGIN`` below 32 cells), ``WALL_GAP`` to the
    walls and ``WAKE * nx`` behind it. Every body (each of a pair or scene) covers at least
    one cell centre; draws that cannot meet this are redrawn. Deterministic for a given
    ``rng`` state.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown shape family {family!r}: choose one of {', '.join(FAMILIES)}")
    nx, ny = _grid(grid)
    rng = np.random.default_rng(rng)
    wall = WALL_GAP if ny >= 16 else MARGIN
    eps = 1e-6  # keeps float round-off from crossing the margins
    lo_dom = np.array([INLET_GAP if nx >= 32 else MARGIN, wall]) + eps
    hi_dom = np.array([nx - max(MARGIN, WAKE * nx), ny - wall]) - eps
    for _ in range(MAX_DRAWS):
        h = rng.uniform(*EXTENT) * ny
        if family == "naca":
            parts = [_naca(rng, ny)]
        elif family == "slender":
            parts = [_slender(rng, ny)]
        elif family == "pair":
            parts = _pair(rng, h)
        elif family == "multi":
            parts = _multi(rng, h)
        elif family == "concave":
            parts = _concave(rng, h)
        elif family == "triple":
            parts = _triple(rng, h)
        else:
            parts = [_body(family, rng, h)]
        lo = np.min([p.bounds[0] for p in parts], axis=0)
        hi = np.max([p.bounds[1] for p in parts], axis=0)
        centre = np.array(
            [rng.uniform(*CENTRE_X) * nx, ny / 2 + rng.uniform(-CENTRE_Y, CENTRE_Y) * ny]
        )
        off = np.minimum(np.maximum(centre - 0.5 * (lo + hi), lo_dom - lo), hi_dom - hi)
        if np.any(lo + off < lo_dom - eps):  # does not fit
            continue
        parts = [translate(p, off) for p in parts]
        if all(_covers_cell(p, nx, ny) for p in parts):
            return parts[0] if len(parts) == 1 else union(*parts, name=family)
    raise ValueError(
        f"could not place a {family!r} body in a {nx} x {ny} grid in {MAX_DRAWS} draws: "
        "use a larger grid"
    )


@dataclasses.dataclass(frozen=True)
class BodyExtents:
    """The size of ``n`` random bodies of one family on a grid, as the solver sees them (the
    cell centres inside): ``height`` (cells across the channel), ``length`` (cells along it)."""

    family: str
    grid: tuple[int, int]
    height: np.ndarray
    length: np.ndarray

    @property
    def aspect(self) -> np.ndarray:
        """Length over height: 1 for a circle, 3-9 for the held-out airfoils at 128x64."""
        return self.length / self.height


def body_extents(family: str, grid: Sequence[int], n: int = 200, seed: int = 0) -> BodyExtents:
    """Extents of bodies ``0..n-1`` of ``family`` drawn as a dataset of seed ``seed`` draws them
    (``rng = default_rng([seed, i])``): what a training set covers, and what it does not."""
    nx, ny = _grid(grid)
    heights, lengths = [], []
    for i in range(n):
        mask = (
            random_shape(family, np.random.default_rng([seed, i]), (nx, ny)).sample(nx, ny, 1.0) < 0
        )
        heights.append(int(mask.any(axis=1).sum()))
        lengths.append(int(mask.any(axis=0).sum()))
    return BodyExtents(family, (nx, ny), np.array(heights), np.array(lengths))
