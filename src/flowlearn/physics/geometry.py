"""Shapes as signed distance functions (SDF, negative inside, physical units).

Builders: :func:`circle`, :func:`sphere`, :func:`polygon`, :func:`naca4`; conversion:
:func:`mask_to_sdf` (scipy's exact Euclidean distance transform), :func:`mask_shape`,
:func:`scaled`. A user's body files (CSV outlines, PNG masks) are read by
:mod:`flowlearn.physics.body_files`. A shape that cannot be used raises :class:`ShapeError` (a
``ValueError``) that names the problem and the value.

Points are ``(N, D)`` arrays, x first; sampled fields are indexed ``[y, x]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


class ShapeError(ValueError):
    """A shape that cannot be used: the message names the problem and the offending value."""


@dataclass(frozen=True)
class Shape:
    """A body: ``sdf(points (N, D)) -> (N,)`` distances (negative inside), physical units,
    and its bounding box ``bounds = (lo (D,), hi (D,))``."""

    name: str
    sdf: Callable[[np.ndarray], np.ndarray]
    bounds: tuple[np.ndarray, np.ndarray]

    def sample(self, nx: int, ny: int, dx: float, origin: tuple[float, float] = (0.0, 0.0)):
        """SDF at the centres of an ``nx`` x ``ny`` grid of spacing ``dx``; shape ``(ny, nx)``."""
        x = origin[0] + (np.arange(nx) + 0.5) * dx
        y = origin[1] + (np.arange(ny) + 0.5) * dx
        xx, yy = np.meshgrid(x, y)
        pts = np.stack([xx.ravel(), yy.ravel()], axis=1)
        return self.sdf(pts).reshape(ny, nx)

    def check_inside(self, lo: tuple[float, ...], hi: tuple[float, ...], margin: float = 0.0):
        """Raise :class:`ShapeError` unless the bounding box lies inside ``[lo, hi]`` with
        ``margin`` to spare on every side."""
        blo, bhi = self.bounds
        for a, name in enumerate("xyz"[: len(lo)]):
            if blo[a] < lo[a] + margin or bhi[a] > hi[a] - margin:
                raise ShapeError(
                    f"shape {self.name!r} spans {name} = [{blo[a]:.4g}, {bhi[a]:.4g}], outside the "
                    f"domain [{lo[a] + margin:.4g}, {hi[a] - margin:.4g}] (margin {margin:.3g}): "
                    "move or scale it"
                )


def circle(center: tuple[float, float], radius: float) -> Shape:
    """Circle of ``radius`` (> 0) around ``center``; its SDF is exact."""
    if not radius > 0:
        raise ShapeError(f"circle radius {radius} must be positive")
    c = np.asarray(center, dtype=float)

    def sdf(p: np.ndarray) -> np.ndarray:
        return np.linalg.norm(np.asarray(p, dtype=float) - c, axis=-1) - radius

    return Shape(f"circle r={radius:g}", sdf, (c - radius, c + radius))


def sphere(center: tuple[float, float, float], radius: float) -> Shape:
    """Sphere (3-D); exact SDF."""
    if not radius > 0:
        raise ShapeError(f"sphere radius {radius} must be positive")
    c = np.asarray(center, dtype=float)

    def sdf(p: np.ndarray) -> np.ndarray:
        return np.linalg.norm(np.asarray(p, dtype=float) - c, axis=-1) - radius

    return Shape(f"sphere r={radius:g}", sdf, (c - radius, c + radius))


def _segments_intersect(v: np.ndarray) -> tuple[int, int] | None:
    """First pair of non-adjacent edges of the closed polygon ``v`` (N, 2) that cross."""
    a = v
    b = np.roll(v, -1, axis=0)
    n = len(v)
    d = b - a

    def cross(u, w):
        return u[..., 0] * w[..., 1] - u[..., 1] * w[..., 0]

    # o1[i, j]: side of a_j / b_j relative to edge i, all pairs at once (O(N^2) memory; fine
    # for the few thousand vertices of a drawn shape).
    o1 = np.sign(cross(d[:, None], a[None, :] - a[:, None]))
    o2 = np.sign(cross(d[:, None], b[None, :] - a[:, None]))
    proper = (o1 * o2 < 0) & (o1.T * o2.T < 0)
    idx = np.arange(n)
    adjacent = (np.abs(idx[:, None] - idx[None, :]) <= 1) | (
        np.abs(idx[:, None] - idx[None, :]) == n - 1
    )
    # Collinear overlaps of non-adjacent edges count as intersections too.
    coll = (o1 == 0) & (o2 == 0)
    if coll.any():
        lo = np.minimum(a, b)
        hi = np.maximum(a, b)
        overlap = np.all(
            (np.maximum(lo[:, None], lo[None, :]) <= np.minimum(hi[:, None], hi[None, :])), axis=-1
        )
        proper |= coll & coll.T & overlap
    proper &= ~adjacent
    hits = np.argwhere(np.triu(proper))
    return (int(hits[0, 0]), int(hits[0, 1])) if len(hits) else None


def polygon(vertices: np.ndarray, name: str = "polygon") -> Shape:
    """Simple polygon from vertices ``(N, 2)`` (either orientation; a repeated closing vertex is
    dropped). Exact vectorised SDF: distance to the nearest edge, sign from the even-odd rule.

    Raises :class:`ShapeError` for fewer than 3 distinct vertices, non-finite values, zero area
    or self-intersection.
    """
    v = np.asarray(vertices, dtype=float)
    if v.ndim != 2 or v.shape[1] != 2:
        raise ShapeError(f"polygon vertices must have shape (N, 2), got {v.shape}")
    if not np.isfinite(v).all():
        raise ShapeError("polygon vertices contain NaN or infinite values")
    if len(v) > 1 and np.allclose(v[0], v[-1]):
        v = v[:-1]
    # Repeated consecutive points add zero-length edges: drop them.
    keep = np.ones(len(v), dtype=bool)
    if len(v) > 1:
        keep[1:] = np.any(np.diff(v, axis=0) != 0, axis=1)
    v = v[keep]
    if len(v) < 3:
        raise ShapeError(f"a polygon needs at least 3 distinct vertices, got {len(v)}")
    crossing = _segments_intersect(v)
    if crossing is not None:
        i, j = crossing
        raise ShapeError(
            f"polygon is self-intersecting: edge {i} ({v[i].tolist()} -> "
            f"{v[(i + 1) % len(v)].tolist()}) crosses edge {j}"
        )
    x, y = v[:, 0], v[:, 1]
    area = 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    scale = float(np.ptp(v, axis=0).max())
    if not abs(area) > 1e-12 * max(scale, 1e-300) ** 2:
        raise ShapeError(f"polygon has zero area ({area:.3g}): its vertices are collinear")
    a = v
    b = np.roll(v, -1, axis=0)
    e = b - a
    ee = np.maximum((e**2).sum(axis=1), 1e-300)

    def sdf(p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, dtype=float).reshape(-1, 2)
        out = np.empty(len(p))
        # Chunks bound the (points x edges) temporaries to about 20 MB whatever the grid.
        chunk = max(1, 262_144 // len(a))
        for s in range(0, len(p), chunk):
            q = p[s : s + chunk, None, :]
            w = q - a[None]
            t = np.clip((w * e[None]).sum(-1) / ee[None], 0.0, 1.0)
            d2 = ((w - t[..., None] * e[None]) ** 2).sum(-1).min(axis=1)
            py = q[..., 1]
            up = (a[None, :, 1] <= py) & (b[None, :, 1] > py)
            down = (a[None, :, 1] > py) & (b[None, :, 1] <= py)
            side = e[None, :, 0] * (py - a[None, :, 1]) - e[None, :, 1] * (
                q[..., 0] - a[None, :, 0]
            )
            winding = (up & (side > 0)).sum(1) - (down & (side < 0)).sum(1)
            out[s : s + chunk] = np.where(winding != 0, -1.0, 1.0) * np.sqrt(d2)
        return out

    return Shape(name, sdf, (v.min(axis=0), v.max(axis=0)))


def naca4(
    code: str,
    chord: float = 1.0,
    angle_deg: float = 0.0,
    leading_edge: tuple[float, float] = (0.0, 0.0),
    n_points: int = 100,
) -> Shape:
    """NACA 4-digit airfoil ("0012", "2412") as a closed polygon (closed trailing edge).

    chord: physical length; angle_deg: angle of attack (nose up, rotation about the leading
    edge); n_points: points per surface (100 resolves the nose well).
    """
    if len(code) != 4 or not code.isdigit():
        raise ShapeError(f"NACA code must be 4 digits such as '2412', got {code!r}")
    if not chord > 0:
        raise ShapeError(f"chord {chord} must be positive")
    m, p, t = int(code[0]) / 100, int(code[1]) / 10, int(code[2:]) / 100
    if t <= 0:
        raise ShapeError(f"NACA {code} has zero thickness")
    beta = np.linspace(0.0, math.pi, n_points)
    xc = 0.5 * (1 - np.cos(beta))  # cosine spacing clusters points at the nose and tail
    # -0.1036 (not -0.1015) closes the trailing edge, so the polygon has no gap.
    yt = (
        5
        * t
        * (0.2969 * np.sqrt(xc) - 0.1260 * xc - 0.3516 * xc**2 + 0.2843 * xc**3 - 0.1036 * xc**4)
    )
    if m > 0 and 0 < p < 1:
        yc = np.where(
            xc < p,
            m / p**2 * (2 * p * xc - xc**2),
            m / (1 - p) ** 2 * (1 - 2 * p + 2 * p * xc - xc**2),
        )
        dyc = np.where(xc < p, 2 * m / p**2 * (p - xc), 2 * m / (1 - p) ** 2 * (p - xc))
    else:
        yc = np.zeros_like(xc)
        dyc = np.zeros_like(xc)
    th = np.arctan(dyc)
    upper = np.stack([xc - yt * np.sin(th), yc + yt * np.cos(th)], axis=1)
    lower = np.stack([xc + yt * np.sin(th), yc - yt * np.cos(th)], axis=1)
    pts = np.concatenate([upper[::-1], lower[1:-1]]) * chord
    a = -math.radians(angle_deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    pts = pts @ rot.T + np.asarray(leading_edge, dtype=float)
    return polygon(pts, name=f"NACA {code}")


def mask_to_sdf(mask: np.ndarray, dx: float = 1.0) -> np.ndarray:
    """SDF (negative inside) of a boolean solid ``mask`` ``(ny, nx[, nz])`` at cell centres.

    Uses scipy's exact Euclidean distance transform; half a cell is taken off both sides so
    that the zero level lies on the cell faces between solid and fluid (first-order accurate:
    a staircase body). Raises :class:`ShapeError` if the mask has no solid or no fluid.
    """
    from scipy.ndimage import distance_transform_edt

    m = np.asarray(mask, dtype=bool)
    check_mask(m)
    outside = distance_transform_edt(~m) - 0.5
    inside = distance_transform_edt(m) - 0.5
    return np.where(m, -inside, outside) * dx


def check_mask(mask: np.ndarray) -> None:
    if mask.ndim not in (2, 3) or min(mask.shape) < 1:
        raise ShapeError(f"a mask must be a 2-D or 3-D array, got shape {mask.shape}")
    n_solid = int(mask.sum())
    if n_solid == 0:
        raise ShapeError(f"mask {mask.shape} has no solid cell: draw the body in black")
    if n_solid == mask.size:
        raise ShapeError(f"mask {mask.shape} has no fluid cell: the body fills the image")


def scaled(shape: Shape, factor: float, name: str | None = None) -> Shape:
    """``shape`` with every length multiplied by ``factor`` (e.g. channel heights -> cells);
    its SDF stays exact."""
    inner = shape.sdf
    lo, hi = shape.bounds

    def sdf(points: np.ndarray) -> np.ndarray:
        return inner(np.asarray(points, dtype=float) / factor) * factor

    return Shape(name or shape.name, sdf, (np.asarray(lo) * factor, np.asarray(hi) * factor))


def mask_shape(mask: np.ndarray, dx: float = 1.0, name: str = "mask") -> Shape:
    """A body from a solid ``mask (ny, nx)`` of cells of size ``dx``: the SDF of
    :func:`mask_to_sdf` read at the cell holding each point, the solid cells' bounding box."""
    m = np.asarray(mask, dtype=bool)
    check_mask(m)
    ny, nx = m.shape
    sdf_grid = mask_to_sdf(m, dx)
    rows = np.flatnonzero(m.any(axis=1))
    cols = np.flatnonzero(m.any(axis=0))
    lo = np.array([cols.min(), rows.min()], dtype=float) * dx
    hi = np.array([cols.max() + 1, rows.max() + 1], dtype=float) * dx

    def sdf(points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=float)
        i = np.clip(np.floor(points[:, 0] / dx).astype(int), 0, nx - 1)
        j = np.clip(np.floor(points[:, 1] / dx).astype(int), 0, ny - 1)
        return sdf_grid[j, i]

    return Shape(name, sdf, (lo, hi))
