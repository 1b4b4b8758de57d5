"""Number formats and axes shared by the CFD track's figures: metrics that may be absent
(``None`` or NaN in ``metrics.json``) print as ``n/a``; log axes label 1, 2, 5 x 10^k plainly.
Field panels (a field over the lattice, the body in grey) are :mod:`flowlearn.report.panels`."""

from __future__ import annotations

from typing import Any

import matplotlib.ticker as mticker
import numpy as np


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
