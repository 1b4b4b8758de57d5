"""Figures of ``surrogate-models``: the error of each network per held-out family and its drag
error, and the data-efficiency curve of the best one; drawn from the run's metrics and arrays.
"""

from __future__ import annotations

import matplotlib.ticker as mticker
import numpy as np
from matplotlib.figure import Figure as MplFigure

from flowlearn.evaluation.surrogate_scorecard import GUO_ERROR
from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure
from flowlearn.report.figures.cfd._format import plain


def draw(run: RunRecord) -> list[Figure]:
    figures = [f(run) for f in (_families, _curve)]
    return [f for f in figures if f is not None]


def _families(run: RunRecord) -> Figure | None:
    models = run.metrics.get("models") or {}
    if not models:
        return None
    names = list(models)
    families = list(next(iter(models.values()))["heldout_error_by_family"])
    columns = ["unseen shapes", *families, "held-out mean"]
    fig = MplFigure(figsize=(max(7.0, 1.1 * len(columns) + 2), 6.4), layout="constrained")
    ax_err, ax_cd = fig.subplots(2, 1, sharex=True)
    x = np.arange(len(columns), dtype=float)
    width = 0.8 / len(names)
    for k, name in enumerate(names):
        m = models[name]
        err = [m["test_error"], *m["heldout_error_by_family"].values()]
        err.append(m["heldout_error_family_mean"])
        cd = [m["cd_error_test"], *m["cd_error_heldout_by_family"].values(), m["cd_error_heldout"]]
        pos = x - 0.4 + width * (k + 0.5)
        label = f"{name} ({m['weights'] / 1e6:.2f} M weights, {m['training_s']:.0f} s)"
        ax_err.bar(pos, 100 * np.asarray(err), width, color=f"C{k}", label=label)
        ax_cd.bar(pos, 100 * np.asarray(cd), width, color=f"C{k}")
    ax_err.axhspan(100 * GUO_ERROR[0], 100 * GUO_ERROR[1], color="C2", alpha=0.15, zorder=0)
    ax_err.set_ylabel("relative velocity error (%)")
    ax_err.legend(fontsize=7, ncols=2)
    ax_cd.set_ylabel("median drag error (%)")
    ax_cd.set_xticks(x, columns, fontsize=8, rotation=20)
    for ax in (ax_err, ax_cd):
        ax.grid(True, axis="y", alpha=0.3)
        ax.axvline(0.5, color="k", lw=0.8)
        ax.axvline(len(columns) - 1.5, color="k", lw=0.8)
    best = run.metrics.get("best_model")
    ax_err.set_title(f"same data, same epochs, one seed each; best over the held-out: {best}")
    return Figure(
        "models_by_family",
        "Each network's mean relative velocity error (top) and median drag error (bottom) on "
        "unseen shapes of the training families, on each family never seen in training, and "
        "averaged over the held-out families. Green band: Guo et al.'s 1.98-2.69 % on unseen "
        "car profiles.",
        fig,
    )


def _curve(run: RunRecord) -> Figure | None:
    a = run.arrays
    if "curve_samples" not in a or np.size(a["curve_samples"]) < 2:
        return None
    n = np.asarray(a["curve_samples"], float)
    fig = MplFigure(figsize=(6, 4.2), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(n, 100 * np.asarray(a["curve_test_error"]), "o-", label="unseen training-family shapes")
    ax.plot(
        n, 100 * np.asarray(a["curve_heldout_error"]), "s-", color="C3", label="held-out families"
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(mticker.FuncFormatter(plain))
        axis.set_minor_formatter(mticker.FuncFormatter(plain))
    ax.set_xlabel("training samples")
    ax.set_ylabel("relative velocity error (%)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    slope = run.metrics.get("data_efficiency_slope")
    model = run.metrics.get("curve_model")
    ax.set_title(
        f"{model}: held-out error ~ N^{slope:.2f}" if slope is not None else str(model),
        fontsize=9,
    )
    return Figure(
        "data_efficiency",
        f"What more data buys: {model} trained on subsets of the training split (each for the "
        "same number of optimiser steps), its error on unseen shapes of the training families "
        "and its mean error over the held-out families.",
        fig,
    )
