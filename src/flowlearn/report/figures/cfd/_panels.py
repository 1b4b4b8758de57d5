"""Panels and number formats shared by the CFD track's figures.

A field panel draws a 2-D field over the lattice with the body (masked cells) in grey and
outlined in black; the formats print metrics that may be absent (``None`` or NaN in
``metrics.json``) as ``n/a``.
"""

from __future__ import annotations

from typing import Any

import matplotlib as mpl
import matplotlib.ticker as mticker
import numpy as np

#: colour of the body (masked cells) in field panels
BODY_COLOUR = "0.7"


def num(value: Any) -> float:
    """A metric as a float: NaN when absent or saved as ``None`` (NaN in ``metrics.json``)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def fmt(value: Any, spec: str = ".2f") -> str:
    v = num(value)
    return "n/a" if not np.isfinite(v) else format(v, spec)


def pct(value: Any) -> str:
    v = num(value)
    return "n/a" if not np.isfinite(v) else f"{100 * v:.2f} %"


def cmap(name: str) -> mpl.colors.Colormap:
    """``name`` with the body (masked cells) drawn grey."""
    return mpl.colormaps[name].with_extremes(bad=BODY_COLOUR)


def families(family: np.ndarray) -> list[str]:
    return sorted({str(f) for f in family})


def plain(v: float, _pos: int) -> str:
    """Log-axis tick labels in plain numbers at 1, 2, 5 x 10^k, blank elsewhere."""
    if not v > 0:
        return ""
    lead = round(v / 10 ** np.floor(np.log10(v)), 6)
    return f"{v:g}" if lead in (1, 2, 5) else ""


def log_y_if_wide(ax, values: np.ndarray) -> None:
    """Log y axis, in plain numbers (1, 2, 5, 10, ...), when ``values`` span over a decade."""
    values = values[np.isfinite(values) & (values > 0)]
    if not (values.size and values.max() / values.min() > 10):
        ax.set_ylim(bottom=0)
        return
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(mticker.FuncFormatter(plain))
    ax.yaxis.set_minor_formatter(mticker.FuncFormatter(plain))


def has(a: dict[str, np.ndarray], *keys: str) -> bool:
    return all(k in a and np.size(a[k]) > 0 for k in keys)


def field_panel(ax, field, mask, extent, cmap, vmin, vmax):
    shown = np.ma.masked_where(mask | ~np.isfinite(field), field)
    im = ax.imshow(
        shown, origin="lower", extent=extent, cmap=cmap, vmin=vmin, vmax=vmax, aspect="equal"
    )
    if mask.any() and not mask.all():
        ny, nx = mask.shape
        ax.contour(
            np.arange(nx) + 0.5,
            np.arange(ny) + 0.5,
            mask.astype(float),
            levels=[0.5],
            colors="k",
            linewidths=0.6,
        )
    ax.tick_params(labelsize=7)
    return im


def limits(*fields: np.ndarray, fluid: np.ndarray) -> tuple[float, float]:
    values = np.concatenate([f[fluid] for f in fields])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)
