"""Figures of the curse of dimensionality: the ball's share of the cube, the slide's table of
image spaces, Monte Carlo against the exact share, and the concentration of distances."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure as MplFigure

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure

#: dimensions shown on the linear-n panel of the volume figure
SMALL_DIMS = 20


def draw(run: RunRecord) -> list[Figure]:
    return [_volume(run), _table(run), _monte_carlo(run), _distances(run)]


def _volume(run: RunRecord) -> Figure:
    a, vol = run.arrays, run.metrics["volume"]
    n, log10 = a["volume_dims"], a["volume_log10_ratio"]
    fig = MplFigure(figsize=(12, 4.2), layout="constrained")
    ax, ax_all = fig.subplots(1, 2)
    small = n <= SMALL_DIMS
    ax.semilogy(n[small], 100 * 10.0 ** log10[small], "o-", color="C0")
    slide_dims = [2, 3]
    shares = [vol[f"share_{d}d_percent"] for d in slide_dims]
    ax.plot(slide_dims, shares, "o", ms=12, mfc="none", color="C3")
    ax.text(
        0.97,
        0.97,
        "\n".join(f"{d}-D: {v:.1f} %" for d, v in zip(slide_dims, shares, strict=True)),
        transform=ax.transAxes,
        ha="right",
        va="top",
        color="C3",
    )
    ax.axhline(1.0, color="0.5", ls=":")
    n1 = vol["first_dim_below_1_percent"]
    if n1 is not None:
        ax.annotate(f"< 1 % from n = {n1}", (n1, 1.0), xytext=(6, 6), textcoords="offset points")
    ax.set_xlabel("dimension n")
    ax.set_ylabel("ball volume / cube volume (%)")
    ax.set_xticks(range(1, SMALL_DIMS + 1, 2))
    ax.set_title("inscribed n-ball's share of the n-cube", fontsize=10)

    ax_all.plot(n, log10, color="C0")
    ax_all.set_xscale("log")
    ax_all.set_xlabel("dimension n")
    ax_all.set_ylabel("log10(ball volume / cube volume)")
    ax_all.set_title(
        f"n = 1..{vol['max_dim']}: 10^{vol['log10_share_at_max_dim']:,.1f} at the end",
        fontsize=10,
    )
    ax_all.grid(alpha=0.3)
    return Figure(
        "dimensionality_volume",
        "Share of the cube [-r, r]^n taken by its inscribed ball, π^(n/2) / (2^n Γ(n/2 + 1)): "
        "78.5 % in 2-D, 52.4 % in 3-D, then towards 0 (right: in log10, far below the smallest "
        "float64). The volume is in the corners.",
        fig,
    )


def _table(run: RunRecord) -> Figure:
    table = run.metrics["table"]
    rows = []
    for label, r in table.items():
        rows.append(
            [
                label,
                f"{r['components']:,}",
                f"{r['levels']}^{r['components']:,}",
                f"10^{r['log10_images']:,.2f}",
                f"10^{r['slide_exponent_images']:,}",
                f"2^{r['components']:,}",
                f"10^{r['log10_corners']:,.2f}",
                f"10^{r['slide_exponent_corners']:,}",
            ]
        )
    header = [
        "image",
        "components",
        "images",
        "measured",
        "slide",
        "corners",
        "measured",
        "slide",
    ]
    fig = MplFigure(figsize=(12, 1.2 + 0.45 * len(rows)), layout="constrained")
    ax = fig.subplots()
    ax.axis("off")
    tab = ax.table(cellText=rows, colLabels=header, loc="center", cellLoc="center")
    tab.auto_set_font_size(False)
    tab.set_fontsize(10)
    tab.scale(1.0, 1.6)
    return Figure(
        "dimensionality_table",
        "The slide's table, recomputed: the number of possible images (levels^components) and of "
        "corners of the cube (2^components), each with exactly checked digit counts.",
        fig,
    )


def _monte_carlo(run: RunRecord) -> Figure:
    a, s = run.arrays, run.metrics["sampling"]
    n = a["mc_dims"]
    fig = MplFigure(figsize=(12, 4.2), layout="constrained")
    ax, ax_orth = fig.subplots(1, 2)
    ax.semilogy(n, a["mc_inside_exact"], "-", color="k", label="exact share")
    hit = a["mc_inside"] > 0
    ax.errorbar(
        n[hit],
        a["mc_inside"][hit],
        yerr=2 * a["mc_inside_sigma"][hit],
        fmt="o",
        color="C3",
        capsize=3,
        label=f"Monte Carlo ± 2σ ({s['samples']:,} samples)",
    )
    if np.any(~hit):
        bottom = 0.5 / s["samples"]
        ax.plot(n[~hit], np.full((~hit).sum(), bottom), "v", color="C3", label="no sample inside")
    ax.set_xlabel("dimension n")
    ax.set_ylabel("fraction of samples inside the ball")
    ax.set_xticks(n[::2])
    ax.legend(fontsize=8)
    ax.set_title(f"largest deviation {s['max_deviation_sigmas']:.2f} σ", fontsize=10)

    ax_orth.semilogy(n, a["mc_orthants_expected"], "-", color="k", label="expected")
    ax_orth.semilogy(n, a["mc_orthants_occupied"], "o", color="C0", label="Monte Carlo")
    ax_orth.set_xlabel("dimension n")
    ax_orth.set_ylabel("fraction of the 2^n orthants reached")
    ax_orth.set_xticks(n[::2])
    ax_orth.legend(fontsize=8)
    ax_orth.set_title("corners the samples ever visit", fontsize=10)
    return Figure(
        "dimensionality_monte_carlo",
        "Uniform samples in [-1, 1]^n. Left: the fraction inside the inscribed ball matches the "
        "exact share until no sample lands there any more; the rest is in the corners. Right: "
        "the fraction of the 2^n orthants holding at least one sample, against 1 - (1 - 2^-n)^N: "
        "a fixed budget of samples leaves most corners of the space empty.",
        fig,
    )


def _distances(run: RunRecord) -> Figure:
    a, d = run.arrays, run.metrics["distances"]
    dims = a["distance_dims"]
    edges = a["distance_hist_edges"]
    centres = 0.5 * (edges[1:] + edges[:-1])
    width = edges[1] - edges[0]
    fig = MplFigure(figsize=(12, 4.2), layout="constrained")
    ax, ax_c = fig.subplots(1, 2)
    for i, n in enumerate(run.config["histogram_dims"]):
        counts = a["distance_hist_counts"][int(np.flatnonzero(dims == n)[0])]
        ax.plot(centres, counts / (counts.sum() * width), color=f"C{i}", label=f"n = {n}")
    ax.set_xlabel("pairwise distance / mean distance")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    ax.set_title(f"{d['points']} uniform points in [-1, 1]^n", fontsize=10)

    ax_c.loglog(dims, a["distance_contrast"], "o-", color="C3", label="(max - min) / min")
    ax_c.loglog(dims, a["distance_relative_spread"], "s-", color="C0", label="std / mean")
    theory = a["distance_relative_spread_theory"]
    coefficient = float(theory[-1] * np.sqrt(dims[-1]))
    ax_c.loglog(dims, theory, "--", color="C0", label=f"{coefficient:.2f} / √n (large n)")
    ax_c.set_xlabel("dimension n")
    ax_c.set_ylabel("relative spread of distances")
    ax_c.legend(fontsize=8)
    ax_c.grid(alpha=0.3, which="both")
    ax_c.set_title(f"contrast {d['contrast_at_max_dim']:.3g} at n = {d['dims'][-1]}", fontsize=10)
    return Figure(
        "dimensionality_distances",
        "Distance concentration. Left: the histogram of pairwise distances narrows around its "
        "mean as n grows. Right: the farthest pair is barely farther than the nearest in high "
        "dimension; the spread falls like 1/√n.",
        fig,
    )
