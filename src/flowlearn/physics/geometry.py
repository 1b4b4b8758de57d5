"""Shapes as signed distance functions (SDF, negative inside, physical units).

Builders: :func:`circle`, :func:`sphere`, :func:`polygon`, :func:`naca4`; readers:
:func:`read_polygon_csv`, :func:`read_mask_png`, and :func:`read_body_csv` / :func:`body_on_grid`
for a user's body in a channel (one CSV convention for every command); conversion:
:func:`mask_to_sdf` (scipy's exact Euclidean distance transform), :func:`mask_shape`,
:func:`scaled`. Bad input raises :class:`ShapeError` (a ``ValueError``) that
names the problem and the value; no other exception escapes the readers.

Points are ``(N, D)`` arrays, x first; sampled fields are indexed ``[y, x]``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class ShapeError(ValueError):
    """A shape that cannot be used: the message names the problem and the offending value."""


#: The height of the channel a body CSV in metres is placed in: the Schäfer–Turek channel.
CHANNEL_HEIGHT_M = 0.41
#: Units a body CSV may be written in (see :func:`read_body_csv`).
CSV_UNITS = {
    "m": "metres, in the 0.41 m high Schäfer–Turek channel",
    "H": "channel heights",
}


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


def read_polygon_csv(source: str | Path | io.TextIOBase, name: str | None = None) -> Shape:
    """Polygon from a CSV of ``x,y`` rows (an optional header row ``x,y``); the last row must
    repeat the first (a closed outline). Physical units.

    Raises :class:`ShapeError` for an empty file, bad numbers, a non-closed outline, fewer than
    3 vertices or a self-intersecting outline.
    """
    try:
        if isinstance(source, io.TextIOBase):
            text = source.read()
            label = name or "polygon"
        else:
            path = Path(source)
            text = path.read_text(encoding="utf-8")
            label = name or path.stem
    except (OSError, UnicodeDecodeError) as exc:
        raise ShapeError(f"cannot read polygon file {source}: {exc}") from None
    rows = []
    try:
        reader = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise ShapeError(f"polygon file is not valid CSV: {exc}") from None
    for lineno, row in enumerate(reader, start=1):
        cells = [c.strip() for c in row]
        if not cells or all(c == "" for c in cells) or cells[0].startswith("#"):
            continue
        if len(cells) != 2:
            raise ShapeError(f"line {lineno}: expected 2 columns x,y, got {len(cells)}: {row!r}")
        try:
            rows.append((float(cells[0]), float(cells[1])))
        except ValueError:
            if not rows and [c.lower() for c in cells] == ["x", "y"]:
                continue
            raise ShapeError(f"line {lineno}: not a pair of numbers: {row!r}") from None
    if not rows:
        raise ShapeError("polygon file is empty: expected rows of x,y")
    v = np.array(rows, dtype=float)
    if not np.isfinite(v).all():
        raise ShapeError("polygon file contains NaN or infinite coordinates")
    if len(v) < 4:
        raise ShapeError(
            f"polygon file has {len(v)} rows; a closed outline needs at least 3 vertices plus "
            "the closing row"
        )
    if not np.allclose(v[0], v[-1], rtol=0, atol=1e-9 * max(1.0, float(np.abs(v).max()))):
        raise ShapeError(
            f"polygon is not closed: first vertex {v[0].tolist()} differs from last "
            f"{v[-1].tolist()}; repeat the first row at the end"
        )
    return polygon(v, name=label)


def read_mask_png(source: str | Path | io.BufferedIOBase, threshold: float = 0.5) -> np.ndarray:
    """Solid mask ``(ny, nx)`` from an image: dark pixels (grey level < ``threshold``, 0-1) are
    solid, transparent pixels fluid. Row 0 of the returned mask is the *bottom* of the image
    (y up). Raises :class:`ShapeError` for unreadable files, or no solid / no fluid pixel."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(source) as img:
            img.load()
            rgba = np.asarray(img.convert("RGBA"), dtype=float) / 255.0
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
        raise ShapeError(f"cannot read image {source}: {exc}") from None
    except Image.DecompressionBombError as exc:  # pragma: no cover - needs a huge image
        raise ShapeError(f"image {source} is too large: {exc}") from None
    if rgba.ndim != 3 or rgba.shape[0] < 1 or rgba.shape[1] < 1:
        raise ShapeError(f"image {source} has no pixels")
    grey = rgba[..., :3].mean(axis=-1)
    solid = (grey < threshold) & (rgba[..., 3] > 0.5)
    mask = solid[::-1]
    check_mask(mask)
    return mask


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


def _declared_units(text: str) -> str | None:
    for line in text.splitlines():
        stripped = line.strip().lstrip("#").strip()
        if line.strip().startswith("#") and stripped.lower().startswith("units:"):
            return stripped.split(":", 1)[1].strip()
    return None


def read_body_csv(
    source: str | Path | io.TextIOBase, units: str | None = None, name: str | None = None
) -> Shape:
    """A body outline from a CSV, in channel heights: x from the inlet, y from the bottom wall.

    The file's convention, the same for ``flowlearn simulate shape`` and ``flowlearn
    predict``: rows ``x,y`` (an optional header ``x,y``; the last row repeats the first) in the
    units a comment line declares, ``# units: m`` (metres, the body in the 0.41 m high
    Schäfer–Turek channel) or ``# units: H`` (channel heights). ``units`` gives them when the
    file does not (and must agree when it does); a file that says neither is refused, since
    the two readings place a body 2.4 times apart.
    """
    try:
        text = (
            source.read()
            if isinstance(source, io.TextIOBase)
            else Path(source).read_text(encoding="utf-8")
        )
    except (OSError, UnicodeDecodeError) as exc:
        raise ShapeError(f"cannot read polygon file {source}: {exc}") from None
    label = name or ("body" if isinstance(source, io.TextIOBase) else Path(source).stem)
    shape = read_polygon_csv(io.StringIO(text), name=label)
    declared = _declared_units(text)
    for given, where in ((declared, "the file declares"), (units, "--units is")):
        if given is not None and given not in CSV_UNITS:
            raise ShapeError(
                f"{where} units {given!r}: use "
                + " or ".join(f"{u!r} ({what})" for u, what in CSV_UNITS.items())
            )
    if declared and units and declared != units:
        raise ShapeError(f"{source} declares units {declared!r} but --units is {units!r}")
    chosen = units or declared
    if chosen is None:
        raise ShapeError(
            f"{source} does not say its units: add a first line '# units: m' (metres, the body "
            "in the 0.41 m high Schäfer–Turek channel) or '# units: H' (channel heights), or "
            "pass --units m or --units H"
        )
    return shape if chosen == "H" else scaled(shape, 1.0 / CHANNEL_HEIGHT_M)


def body_on_grid(
    path: str | Path, grid: tuple[int, int], units: str | None = None
) -> tuple[Shape, np.ndarray, np.ndarray]:
    """A user's body on the ``grid = (nx, ny)`` channel of a surrogate (``ny`` cells across):
    from a ``.csv`` (:func:`read_body_csv`) or a ``.png`` mask of exactly ``nx x ny`` pixels.
    Returns ``(shape in cells, sdf (ny, nx) float32, mask (ny, nx) bool)``; raises
    :class:`ShapeError` naming what does not fit."""
    path = Path(path)
    nx, ny = grid
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ShapeError(f"shape file {path} does not exist")
    if suffix == ".csv":
        shape = scaled(read_body_csv(path, units), float(ny))
        try:
            shape.check_inside((0.0, 0.0), (float(nx), float(ny)), margin=1.0)
        except ShapeError as exc:
            raise ShapeError(
                f"{exc} (in cells: channel heights times ny = {ny}; the channel is "
                f"[0, {nx / ny:g}] x [0, 1] channel heights)"
            ) from None
        sdf = shape.sample(nx, ny, 1.0).astype(np.float32)
        mask = sdf < 0
        if not mask.any():
            raise ShapeError(
                f"the body of {path} covers no cell centre of the {nx}x{ny} grid: it is "
                "smaller than a cell; draw it larger"
            )
        return shape, sdf, mask
    if suffix == ".png":
        mask = read_mask_png(path)
        if mask.shape != (ny, nx):
            raise ShapeError(
                f"mask {path} is {mask.shape[1]}x{mask.shape[0]} pixels but the surrogate's "
                f"grid is {nx}x{ny} cells: draw the mask at {nx}x{ny} (one pixel per cell)"
            )
        shape = mask_shape(mask, 1.0, name=path.stem)
        shape.check_inside((0.0, 0.0), (float(nx), float(ny)), margin=1.0)
        return shape, mask_to_sdf(mask, 1.0).astype(np.float32), mask
    raise ShapeError(f"shape file {path} has suffix {suffix!r}: expected .csv or .png")
