"""Field panels of one flow (SDF, velocity, pressure, errors, ensemble spread) as one PNG: what
``flowlearn dataset show`` and ``flowlearn predict`` draw."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from flowlearn.safety.outputs import MARK, write_replacing


def field_panels_png(
    path: Path,
    rows: list[list[tuple[str, np.ndarray, str]]],
    mask: np.ndarray,
    title: str,
    output_kind: str = "figure",
) -> Path:
    """One PNG of field panels ``(label, array (ny, nx), kind)`` (kind: "seq", "div" or
    "sdf"), the body in grey, row by row. The PNG carries ``output_kind`` as its flowlearn mark
    (checking ``path`` before computing is the caller's: :func:`flowlearn.safety.check_target`)."""
    from matplotlib.figure import Figure

    ny, nx = mask.shape
    ncol = max(len(r) for r in rows)
    fig = Figure(
        figsize=(4.0 * ncol, (4.0 * ny / nx + 0.7) * len(rows) + 0.5), layout="constrained"
    )
    axes = fig.subplots(len(rows), ncol, squeeze=False)
    body = np.ma.masked_where(~mask, np.ones_like(mask, dtype=float))
    for r, row in enumerate(rows):
        for c in range(ncol):
            ax = axes[r][c]
            if c >= len(row):
                ax.set_axis_off()
                continue
            label, data, kind = row[c]
            data = np.asarray(data, dtype=float)
            shown = data if kind == "sdf" else np.ma.masked_where(mask | ~np.isfinite(data), data)
            opts: dict[str, Any] = {"cmap": "viridis"}
            if kind in ("div", "sdf"):
                lim = float(np.nanmax(np.abs(shown))) if np.ma.count(shown) else 1.0
                opts = {"cmap": "RdBu_r", "vmin": -(lim or 1.0), "vmax": lim or 1.0}
            elif kind == "spread":
                opts = {"cmap": "magma"}
            im = ax.imshow(shown, origin="lower", extent=(0, nx, 0, ny), **opts)
            if kind == "sdf":
                ax.contour(np.arange(nx) + 0.5, np.arange(ny) + 0.5, data, [0.0], colors="k")
            else:
                ax.imshow(body, origin="lower", extent=(0, nx, 0, ny), cmap="Greys", vmin=0,
                          vmax=2)  # fmt: skip
            fig.colorbar(im, ax=ax, shrink=0.8)
            ax.set_title(label, fontsize=10)
            ax.set_xlabel("x (cells)")
            ax.set_ylabel("y (cells)")
    fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_replacing(
        path, lambda tmp: fig.savefig(tmp, dpi=110, format="png", metadata={MARK: output_kind})
    )
