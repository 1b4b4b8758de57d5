"""Figures of the capacity experiment: the slide's ladder of models, the polynomial fits of
order 1, 2 and n - 1, the under-/over-fitting curve and the same sweep for a network."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure as MplFigure

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure

TRAIN_STYLE = {"color": "k", "s": 28, "zorder": 3, "label": "train"}
TEST_STYLE = {"color": "0.7", "s": 4, "zorder": 1, "label": "test"}
#: test points drawn in the fit panels (all are in the run, a cloud of this many is enough)
TEST_POINTS_SHOWN = 300


def draw(run: RunRecord) -> list[Figure]:
    return [_ladder(run), _orders(run), _error_curve(run), _network(run)]


def _data(ax, a: dict[str, np.ndarray]) -> None:
    ax.scatter(a["x_test"][:TEST_POINTS_SHOWN], a["y_test"][:TEST_POINTS_SHOWN], **TEST_STYLE)
    ax.scatter(a["x_train"], a["y_train"], **TRAIN_STYLE)
    y = a["y_train"]
    pad = 0.4 * (y.max() - y.min())
    ax.set_ylim(y.min() - pad, y.max() + pad)  # an interpolant can leave by orders of magnitude
    ax.set_xlabel("x")


def _ladder(run: RunRecord) -> Figure:
    a, lad = run.arrays, run.metrics["ladder"]
    best = lad["polynomial_order"]
    fig = MplFigure(figsize=(12, 3.8), layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    panels = [
        ("rule based: y = 3x²", a["y_law"], lad["rule_test_mse"], "nothing learned"),
        (
            "machine learning: y = a xᵇ + c",
            a["y_power_law"],
            lad["power_law_test_mse"],
            f"a = {lad['power_law_a']:.3g}, b = {lad['power_law_b']:.3g}, "
            f"c = {lad['power_law_c']:.2g}",
        ),
        (
            "representation learning: y = Σ aᵢ xⁱ",
            a["poly_predictions"][best],
            lad["polynomial_test_mse"],
            f"order N = {best} (best on test)",
        ),
    ]
    for ax, (title, y, mse, note) in zip(axes, panels, strict=True):
        _data(ax, a)
        ax.plot(a["x_grid"], y, color="C0", lw=2, label=note)
        ax.set_title(f"{title}\ntest MSE {mse:.3g}", fontsize=10)
        ax.legend(fontsize=8, loc="upper left")
    axes[0].set_ylabel("y")
    return Figure(
        "capacity_ladder",
        f"The slide's three kinds of model fitted to the same {a['x_train'].size} noisy samples "
        "of y = 3x²: the rule learns nothing, the power law learns three numbers, the polynomial "
        "learns its coefficients. Grey: test samples.",
        fig,
    )


def _orders(run: RunRecord) -> Figure:
    a = run.arrays
    n_max = int(a["orders"][-1])
    shown = [1, 2, n_max]
    names = ["under-fitting", "about right", "over-fitting"]
    fig = MplFigure(figsize=(12, 3.8), layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    for ax, order, name in zip(axes, shown, names, strict=True):
        _data(ax, a)
        ax.plot(a["x_grid"], a["poly_predictions"][order], color="C3", lw=2)
        ax.set_title(
            f"N = {order}: {name}\ntrain MSE {run.arrays['poly_train_mse'][0, order]:.2g}, "
            f"test MSE {run.arrays['poly_test_mse'][0, order]:.2g}",
            fontsize=10,
        )
    axes[0].set_ylabel("y")
    axes[0].legend(fontsize=8, loc="upper left")
    return Figure(
        "capacity_orders",
        f"Polynomials of order 1, 2 and {n_max} on the same training points: a line misses the "
        f"curvature, the parabola follows the law, order {n_max} goes through every point and "
        "swings between them.",
        fig,
    )


def _error_curve(run: RunRecord) -> Figure:
    a, m = run.arrays, run.metrics
    orders = a["orders"]
    best = m["poly_best_order"]
    train, test = a["poly_train_mse"], a["poly_test_mse"]
    fig = MplFigure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    ax.axvspan(orders[0] - 0.5, best, color="C0", alpha=0.08)
    ax.axvspan(best, orders[-1] + 0.5, color="C3", alpha=0.08)
    # the interpolant's train error is round-off (~1e-28): pin it to the bottom of the axis
    floor = 1e-2 * min(m["noise_variance"] or 1e-6, float(np.min(np.median(test, axis=0))))
    floor = max(floor, 1e-12)
    for values, name, colour in ((train, "train", "C0"), (test, "test", "C3")):
        lo, hi = np.maximum(np.percentile(values, [25, 75], axis=0), floor)
        ax.fill_between(orders, lo, hi, color=colour, alpha=0.2, lw=0)
        median = np.median(values, axis=0)
        ax.plot(orders, np.maximum(median, floor), "o-", color=colour, label=name)
        clipped = median < floor
        if np.any(clipped):
            ax.plot(orders[clipped], np.full(clipped.sum(), floor), "v", color=colour, ms=10)
    ax.plot(best, m["poly_best_test_mse"], "*", color="k", ms=16, zorder=4, label="optimum")
    if m["noise_variance"] > 0:
        ax.axhline(m["noise_variance"], color="0.4", ls=":", label="noise variance")
    ax.set_yscale("log")
    ax.set_ylim(floor / 2, None)
    ax.text(0.02, 0.97, "under-fitting", transform=ax.transAxes, va="top", color="C0")
    ax.text(0.98, 0.97, "over-fitting", transform=ax.transAxes, va="top", ha="right", color="C3")
    ax.set_xlabel("capacity: polynomial order N")
    ax.set_ylabel("mean squared error")
    ax.set_xticks(orders)
    ax.legend(loc="center left", fontsize=9)
    n_draws = train.shape[0]
    return Figure(
        "capacity_error_curve",
        f"Train and test error against the order N (median over {n_draws} draws of the training "
        f"set, band: quartiles). The optimum N = {best} splits under-fitting from over-fitting; "
        "triangles: train error at round-off level (interpolation), drawn at the axis floor.",
        fig,
    )


def _network(run: RunRecord) -> Figure:
    a, m = run.arrays, run.metrics
    widths = a["nn_widths"]
    train, test = a["nn_train_mse"], a["nn_test_mse"]
    fig = MplFigure(figsize=(12, 4.2), layout="constrained")
    ax, ax_fit = fig.subplots(1, 2)
    for values, name, colour in ((train, "train", "C0"), (test, "test", "C3")):
        for row in values:
            ax.plot(widths, row, color=colour, alpha=0.25, lw=1)
        ax.plot(widths, np.median(values, axis=0), "o-", color=colour, label=f"{name} (median)")
    ax.plot(m["nn_best_width"], m["nn_best_test_mse"], "*", color="k", ms=16, zorder=4)
    if m["noise_variance"] > 0:
        ax.axhline(m["noise_variance"], color="0.4", ls=":", label="noise variance")
    ax.axhline(
        m["poly_best_test_mse"],
        color="C2",
        ls="--",
        label=f"best polynomial (N = {m['poly_best_order']})",
    )
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("capacity: hidden width")
    ax.set_ylabel("mean squared error")
    ax.legend(fontsize=8)
    ax.set_title("tanh network, full-batch Adam", fontsize=10)

    _data(ax_fit, a)
    best = int(np.flatnonzero(widths == m["nn_best_width"])[0])
    shown = dict.fromkeys([0, best, len(widths) - 1])  # ordered, without repeats
    for i, colour in zip(shown, ("C0", "C2", "C3"), strict=False):
        ax_fit.plot(
            a["x_grid"], a["nn_predictions"][i], color=colour, lw=2, label=f"width {widths[i]}"
        )
    ax_fit.legend(fontsize=8, loc="upper left")
    ax_fit.set_title("networks trained on the first draw", fontsize=10)
    over_fits = [c.reproduced for c in run.claims if "neural network" in c.slide]
    verdict = "over-fits" if any(over_fits) else "does not over-fit like a polynomial"
    return Figure(
        "capacity_network",
        f"The same sweep for a tanh network (capacity = width, thin lines: single draws). The "
        f"widest network's test error is {m['nn_overfit_ratio_width_max']:.3g}x the best: it "
        f"{verdict}.",
        fig,
    )
