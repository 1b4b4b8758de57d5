"""Figures of ``tbnn``, drawn from the run's metrics and arrays only: errors per component and per
unseen flow for every closure, barycentric maps (DNS against each model), the square duct's
b22 - b33 field (the secondary flow's driver), and the networks' training curves."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure as MplFigure
from matplotlib.tri import Triangulation

from flowlearn.experiments import RunRecord
from flowlearn.experiments.cfd.tbnn import DRIVER_FLOW, LABELS
from flowlearn.physics.turbulence import COMPONENT_NAMES, CORNERS
from flowlearn.report.figures._base import Figure
from flowlearn.report.figures.cfd import _format


def draw(run: RunRecord) -> list[Figure]:
    out = [f(run) for f in (_errors, _maps, _driver, _training)]
    return [f for f in out if f is not None]


def _models(run: RunRecord) -> list[str]:
    return [m for m in LABELS if m in run.metrics.get("summary", {})]


def _errors(run: RunRecord) -> Figure | None:
    s, scores = run.metrics.get("summary"), run.metrics.get("scores")
    if not s or not scores:
        return None
    models = _models(run)
    tests = run.metrics["split"]["test"] + run.metrics["split"].get("beyond", [])
    fig = MplFigure(figsize=(12, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.3])
    width = 0.8 / len(models)
    names = [*COMPONENT_NAMES, "all"]
    x = np.arange(len(names))
    for j, m in enumerate(models):
        vals = [s[m]["components"][c] for c in COMPONENT_NAMES] + [s[m]["ensemble"]]
        left.bar(x + (j - len(models) / 2 + 0.5) * width, vals, width, label=LABELS[m])
    left.set_xticks(x, names)
    left.set_ylabel("RMSE of b (mean over unseen flows)")
    left.set_title("per component, ensemble mean", fontsize=10)
    left.legend(fontsize=8)
    left.grid(True, axis="y", alpha=0.3)
    xf = np.arange(len(tests))
    for j, m in enumerate(models):
        members = np.array([scores[f][m]["members"] for f in tests])
        mid = members.mean(1)
        lo, hi = mid - members.min(1), members.max(1) - mid
        right.bar(
            xf + (j - len(models) / 2 + 0.5) * width,
            mid,
            width,
            yerr=[lo, hi],
            capsize=2,
            label=LABELS[m],
        )
    right.set_xticks(xf, [t.replace("_", "\n") for t in tests], fontsize=8)
    right.set_ylabel("RMSE of b, members' mean (bars: min-max)")
    right.set_title("per unseen flow (last: other data, outside the split)", fontsize=10)
    right.grid(True, axis="y", alpha=0.3)
    return Figure(
        "tbnn_errors",
        "Root-mean-square error of the anisotropy b on flows never trained on. Left: per "
        "component, averaged over the test flows; right: per flow, the bars spanning the "
        "members trained from different seeds (a difference smaller than them is noise).",
        fig,
    )


def _triangle(ax) -> None:
    c = np.array([CORNERS["1C"], CORNERS["2C"], CORNERS["3C"], CORNERS["1C"]])
    ax.plot(c[:, 0], c[:, 1], color="k", lw=0.8)
    for name, (x, y) in CORNERS.items():
        ax.annotate(name, (x, y), fontsize=7, ha="center", va="bottom" if y > 0 else "top")
    ax.set_aspect("equal")
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-0.08, 0.95)
    ax.axis("off")


def _maps(run: RunRecord) -> Figure | None:
    a = run.arrays
    flows = [f for f in (DRIVER_FLOW, "hill_Re10595") if f"map_{f}_dns" in a]
    if not flows:
        return None
    models = [m for m in _models(run) if f"map_{flows[0]}_{m}" in a]
    cols = 1 + len(models)
    fig = MplFigure(figsize=(2.2 * cols, 2.2 * len(flows) + 0.4), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(flows), cols))
    for r, f in enumerate(flows):
        for c, who in enumerate(["dns", *models]):
            ax = axes[r, c]
            _triangle(ax)
            xy = a.get(f"map_{f}_{who}")
            if xy is None:
                continue
            ax.scatter(xy[:, 0], xy[:, 1], s=1, alpha=0.3, color="k" if who == "dns" else "C0")
            ax.set_title(("DNS / LES" if who == "dns" else LABELS[who]) + f"\n{f}", fontsize=8)
    return Figure(
        "tbnn_barycentric",
        "Barycentric maps of b (Banerjee et al. 2007): each cell's anisotropy between one-, two- "
        "and three-component turbulence; the DNS / LES on the left, each model on the same cells "
        "to its right. Points outside the triangle are not realizable.",
        fig,
    )


def _driver(run: RunRecord) -> Figure | None:
    a = run.arrays
    if not _format.has(a, "driver_dns", "driver_y", "driver_z"):
        return None
    models = [m for m in _models(run) if f"driver_{m}" in a]
    tri = Triangulation(a["driver_z"], a["driver_y"])
    lim = float(np.abs(a["driver_dns"]).max())
    cols = 1 + len(models)
    fig = MplFigure(figsize=(2.3 * cols + 0.8, 2.8), layout="constrained")
    axes = fig.subplots(1, cols)
    levels = np.linspace(-lim, lim, 21)
    im = None
    for ax, who in zip(axes, ["dns", *models], strict=True):
        field = np.clip(a[f"driver_{who}"], -lim, lim)
        im = ax.tricontourf(tri, field, levels=levels, cmap="RdBu_r")
        ax.set_aspect("equal")
        ax.set_title("DNS" if who == "dns" else LABELS[who], fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=list(axes), shrink=0.8, label="b22 - b33")
    return Figure(
        "tbnn_driver",
        f"b22 - b33 on a quadrant of the square duct at Re_tau 360 ({DRIVER_FLOW}, never "
        "trained on; walls at the top and right, symmetry planes at the bottom and left): the "
        "normal-stress difference that drives the duct's secondary flow. LEVM predicts none.",
        fig,
    )


def _training(run: RunRecord) -> Figure | None:
    a = run.arrays
    kinds = [m for m in ("tbnn", "mlp", "mlp-components") if f"history_{m}_0_train" in a]
    if not kinds:
        return None
    fig = MplFigure(figsize=(6.5, 3.8), layout="constrained")
    ax = fig.add_subplot()
    for j, m in enumerate(kinds):
        k = 0
        while f"history_{m}_{k}_train" in a:
            tr, va = a[f"history_{m}_{k}_train"], a[f"history_{m}_{k}_val"]
            e = np.arange(1, len(tr) + 1)
            ax.plot(
                e,
                tr,
                color=f"C{j}",
                lw=0.7,
                alpha=0.6,
                label=f"{LABELS[m]} train" if k == 0 else None,
            )
            ax.plot(
                e,
                va,
                color=f"C{j}",
                lw=1.2,
                ls="--",
                label=f"{LABELS[m]} validation" if k == 0 else None,
            )
            k += 1
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE of b")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return Figure(
        "tbnn_training",
        "Training of every member: loss on the training flows (solid) and on the validation "
        "duct (dashed, AR 3 at Re_tau 360); each member keeps its epoch of lowest validation loss.",
        fig,
    )
