"""Figures of ``lbm-validation``, drawn from the run's arrays and metrics only."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure as MplFigure

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure


def _convergence(run: RunRecord) -> Figure | None:
    a = run.arrays
    if "poiseuille_heights" not in a:
        return None
    fig = MplFigure(figsize=(5.5, 4))
    ax = fig.add_subplot()
    h = a["poiseuille_heights"]
    for label, name, marker in (
        ("bgk_bounce_back", "BGK, bounce-back", "o"),
        ("trt_bouzidi_offgrid", "TRT, Bouzidi (q = 0.25)", "s"),
    ):
        key = f"poiseuille_{label}_errors"
        if key in a:
            slope = run.metrics.get("poiseuille", {}).get(label, {}).get("slope", float("nan"))
            ax.loglog(h, a[key], marker=marker, label=f"{name}: slope {slope:.2f}")
    if "tg_errors" in a:
        slope = run.metrics.get("taylor_green", {}).get("slope", float("nan"))
        ax.loglog(
            a["tg_sizes"], a["tg_errors"], marker="^", label=f"Taylor–Green rate: slope {slope:.2f}"
        )
    ref = a.get("poiseuille_bgk_bounce_back_errors")
    if ref is not None:
        ax.loglog(h, ref[0] * (h / h[0]) ** -2.0, "k--", lw=0.8, label="second order")
    ax.set_xlabel("cells across the channel / box")
    ax.set_ylabel("relative error")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return Figure(
        "lbm_convergence",
        "Grid convergence: Poiseuille profile error and Taylor–Green decay-rate error.",
        fig,
    )


def _cavity(run: RunRecord) -> Figure | None:
    a = run.arrays
    if "cavity_pos" not in a:
        return None
    fig = MplFigure(figsize=(9, 4))
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(a["cavity_u_line"], a["cavity_pos"], label="flowlearn LBM")
    ax1.plot(
        a["cavity_ghia_u"][:, 1], a["cavity_ghia_u"][:, 0], "ko", ms=4, label="Ghia et al. 1982"
    )
    ax1.set_xlabel("u / U_lid at x = 0.5")
    ax1.set_ylabel("y")
    ax1.legend(fontsize=8)
    ax2.plot(a["cavity_pos"], a["cavity_v_line"])
    ax2.plot(a["cavity_ghia_v"][:, 0], a["cavity_ghia_v"][:, 1], "ko", ms=4)
    ax2.set_xlabel("x")
    ax2.set_ylabel("v / U_lid at y = 0.5")
    err = run.metrics.get("cavity", {}) or {}
    fig.suptitle(
        f"Lid-driven cavity, Re 100: max deviation {err.get('max_error', float('nan')):.4f}"
    )
    fig.tight_layout()
    return Figure(
        "lbm_cavity", "Cavity centreline velocities against Ghia, Ghia & Shin (1982).", fig
    )


def _cylinder(run: RunRecord) -> Figure | None:
    a = run.arrays
    if "st1_u" not in a:
        return None
    fig = MplFigure(figsize=(9, 2.4))
    ax = fig.add_subplot()
    u = np.ma.masked_invalid(a["st1_u"])
    im = ax.imshow(u, origin="lower", extent=tuple(a["st1_extent"]), cmap="viridis")
    fig.colorbar(im, ax=ax, label="u (m/s)")
    m = run.metrics.get("schafer_turek_2d1", {})
    ax.set_title(
        f"Schäfer–Turek 2D-1: Cd {m.get('cd', float('nan')):.3f} (ref 5.58), "
        f"Cl {m.get('cl', float('nan')):.4f} (ref 0.0106), "
        f"dp {m.get('dp', float('nan')):.4f} (ref 0.1175)",
        fontsize=9,
    )
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    fig.tight_layout()
    return Figure("lbm_cylinder_re20", "Streamwise velocity around the cylinder at Re 20.", fig)


def _unsteady(run: RunRecord) -> Figure | None:
    a = run.arrays
    if "st2_cl" not in a:
        return None
    fig = MplFigure(figsize=(8, 3.5))
    ax = fig.add_subplot()
    ax.plot(a["st2_time"], a["st2_cd"], label="Cd")
    ax.plot(a["st2_time"], a["st2_cl"], label="Cl")
    ax.axhspan(3.22, 3.24, color="C0", alpha=0.2, label="Cd_max reference")
    m = run.metrics.get("schafer_turek_2d2", {})
    ax.set_title(
        f"Schäfer–Turek 2D-2 (Re 100): St {m.get('st', float('nan')):.4f} (ref 0.295-0.305), "
        f"Cd_max {m.get('cd_max', float('nan')):.3f} (ref 3.22-3.24)",
        fontsize=9,
    )
    ax.set_xlabel("t (s)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return Figure("lbm_cylinder_re100", "Drag and lift of the shedding cylinder at Re 100.", fig)


def _cylinder_resolution(run: RunRecord) -> Figure | None:
    panels = [
        ("schafer_turek_2d1", "cd", "2D-1 Cd", (5.57, 5.59)),
        ("schafer_turek_2d1", "dp", "2D-1 dp", (0.1172, 0.1176)),
        ("schafer_turek_2d2", "cd_max", "2D-2 Cd_max", (3.22, 3.24)),
        ("schafer_turek_2d2", "cl_max", "2D-2 Cl_max", (0.99, 1.01)),
    ]
    panels = [
        (m, k, t, r)
        for m, k, t, r in panels
        if len(run.metrics.get(m, {}).get("convergence", [])) > 1
    ]
    if not panels:
        return None
    fig = MplFigure(figsize=(3 * len(panels), 3))
    for ax, (m, key, title, (lo, hi)) in zip(fig.subplots(1, len(panels)), panels, strict=True):
        conv = run.metrics[m]["convergence"]
        ax.plot([r["cells_per_diameter"] for r in conv], [r[key] for r in conv], "o-")
        ax.axhspan(lo, hi, color="k", alpha=0.15, label="Schäfer & Turek 1996")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("cells per diameter")
    fig.axes[0].legend(fontsize=7)
    fig.tight_layout()
    return Figure(
        "lbm_cylinder_resolution",
        "Schäfer–Turek quantities against the grid resolution, with the reference intervals.",
        fig,
    )


def draw(run: RunRecord) -> list[Figure]:
    figures = [f(run) for f in (_convergence, _cavity, _cylinder, _cylinder_resolution, _unsteady)]
    return [f for f in figures if f is not None]
