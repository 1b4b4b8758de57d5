"""Field panels: a 2-D field over the lattice, the body (solid cells) grey and outlined in
black. :func:`field_panel` draws one into a matplotlib axes (the run figures of the CFD track);
:func:`field_panels_png` draws a flow's fields (SDF, velocity, pressure, errors, ensemble
spread) as one PNG, what ``flowlearn dataset show`` and ``flowlearn predict`` draw."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from flowlearn.safety.outputs import MARK, write_replacing

#: Colour of the body (solid cells) in field panels.
BODY_COLOUR = "0.7"


def body_cmap(name: str):
    """Matplotlib colormap ``name`` with masked cells (the body) drawn in :data:`BODY_COLOUR`."""
    import matplotlib as mpl

    return mpl.colormaps[name].with_extremes(bad=BODY_COLOUR)


def field_panel(ax, field: np.ndarray, mask: np.ndarray, cmap, vmin=None, vmax=None):
    """``field (ny, nx)`` on ``ax`` in cells (x along the channel, y up), the solid ``mask``
    masked (grey with :func:`body_cmap`) and outlined in black; returns the image for a
    colour bar. Non-finite values are masked too."""
    ny, nx = mask.shape
    shown = np.ma.masked_where(mask | ~np.isfinite(field), field)
    im = ax.imshow(
        shown, origin="lower", extent=(0, nx, 0, ny), cmap=cmap, vmin=vmin, vmax=vmax,
        aspect="equal",
    )  # fmt: skip
    if mask.any() and not mask.all():
        ax.contour(
            np.arange(nx) + 0.5,
            np.arange(ny) + 0.5,
            mask.astype(float),
            levels=[0.5],
            colors="k",
            linewidths=0.6,
        )
    return im


def field_limits(*fields: np.ndarray, fluid: np.ndarray) -> tuple[float, float]:
    """One colour range ``(lo, hi)`` for ``fields`` over the ``fluid`` cells (finite values)."""
    values = np.concatenate([f[fluid] for f in fields])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)


def field_panels_png(
    path: Path,
    rows: list[list[tuple[str, np.ndarray, str]]],
    mask: np.ndarray,
    title: str,
    output_kind: str = "figure",
) -> Path:
    """One PNG of field panels ``(label, array (ny, nx), kind)``, row by row: kind "seq"
    (viridis), "div" (symmetric about 0), "spread" (magma) with the body grey and outlined, or
    "sdf" (symmetric, its zero level drawn). The PNG carries ``output_kind`` as its flowlearn mark
    (checking ``path`` before computing is the caller's: :func:`flowlearn.safety.check_target`)."""
    from matplotlib.figure import Figure

    ny, nx = mask.shape
    ncol = max(len(r) for r in rows)
    fig = Figure(
        figsize=(4.0 * ncol, (4.0 * ny / nx + 0.7) * len(rows) + 0.5), layout="constrained"
    )
    axes = fig.subplots(len(rows), ncol, squeeze=False)
    for r, row in enumerate(rows):
        for c in range(ncol):
            ax = axes[r][c]
            if c >= len(row):
                ax.set_axis_off()
                continue
            label, data, kind = row[c]
            data = np.asarray(data, dtype=float)
            if kind == "sdf":
                lim = float(np.nanmax(np.abs(data))) or 1.0
                im = ax.imshow(data, origin="lower", extent=(0, nx, 0, ny), cmap="RdBu_r",
                               vmin=-lim, vmax=lim)  # fmt: skip
                ax.contour(np.arange(nx) + 0.5, np.arange(ny) + 0.5, data, [0.0], colors="k")
            else:
                vmin = vmax = None
                if kind == "div":
                    fluid = ~mask & np.isfinite(data)
                    lim = float(np.abs(data[fluid]).max()) if fluid.any() else 1.0
                    vmin, vmax = -(lim or 1.0), lim or 1.0
                name = {"div": "RdBu_r", "spread": "magma"}.get(kind, "viridis")
                im = field_panel(ax, data, mask, body_cmap(name), vmin, vmax)
            fig.colorbar(im, ax=ax, shrink=0.8)
            ax.set_title(label, fontsize=10)
            ax.set_xlabel("x (cells)")
            ax.set_ylabel("y (cells)")
    fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_replacing(
        path, lambda tmp: fig.savefig(tmp, dpi=110, format="png", metadata={MARK: output_kind})
    )
