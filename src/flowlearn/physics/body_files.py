"""A user's body from a file: a polygon outline in CSV or a solid mask in PNG, and one CSV
convention for every command (``flowlearn simulate shape`` and ``flowlearn predict`` place the
same file identically).

Readers: :func:`read_polygon_csv`, :func:`read_mask_png`, :func:`read_body_csv` (a body in
channel heights, units declared in the file or given) and :func:`body_on_grid` (a body on a
surrogate's lattice). Bad input raises :class:`~flowlearn.physics.geometry.ShapeError` that names
the problem and the value; no other exception escapes the readers.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from flowlearn.physics.geometry import (
    Shape,
    ShapeError,
    check_mask,
    mask_shape,
    mask_to_sdf,
    polygon,
    scaled,
)

#: The height of the channel a body CSV in metres is placed in: the Schäfer–Turek channel.
CHANNEL_HEIGHT_M = 0.41
#: Units a body CSV may be written in (see :func:`read_body_csv`).
CSV_UNITS = {
    "m": "metres, in the 0.41 m high Schäfer–Turek channel",
    "H": "channel heights",
}


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
