"""Figures of the neuron experiment, in the playground's colours (orange -1, blue +1): one neuron
worked by hand, the six data sets, the decision heat maps, the loss curves and the circle with
and without the X1^2, X2^2 features."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Circle, FancyArrowPatch

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure

ORANGE, BLUE, GREY = "#f59322", "#0877bd", "#e8eaeb"
#: The site's heat map colours: orange (-1) through light grey (0) to blue (+1).
PLAYGROUND = LinearSegmentedColormap.from_list("playground", [ORANGE, GREY, BLUE])
EXTENT = (-6.0, 6.0, -6.0, 6.0)


def draw(run: RunRecord) -> list[Figure]:
    return [_neuron(run), _datasets(run), _heatmaps(run), _losses(run), _features(run)]


def _key(name: str) -> str:
    return name.replace("-", "_")


def _points(ax, X: np.ndarray, y: np.ndarray, edge: str, size: float = 14) -> None:
    """Points coloured by label on the playground scale; ``edge`` tells train from test."""
    ax.scatter(
        X[:, 0], X[:, 1], c=y, cmap=PLAYGROUND, vmin=-1, vmax=1, s=size, edgecolors=edge, lw=0.6
    )


def _background(ax, heat: np.ndarray) -> None:
    """The network's output over the plane, faded as on the site so the points stand out."""
    ax.imshow(heat, extent=EXTENT, origin="lower", cmap=PLAYGROUND, vmin=-1, vmax=1, alpha=0.5)


def _frame(ax) -> None:
    ax.set_xlim(EXTENT[:2])
    ax.set_ylim(EXTENT[2:])
    ax.set_aspect("equal")
    ax.set_xticks([-6, 0, 6])
    ax.set_yticks([-6, 0, 6])
    ax.tick_params(labelsize=7)


def _grid(n: int) -> tuple[int, int]:
    cols = min(n, 3)
    return -(-n // cols), cols


def _score(entry: dict) -> str:
    if entry["task"] == "classification":
        return f"test acc {100 * entry['test_accuracy']:.1f} %, loss {entry['test_loss']:.3f}"
    return f"test loss {entry['test_loss']:.4f}, R² {entry['test_r2']:.3f}"


def _node(ax, xy, text: str, colour: str = "white", radius: float = 0.55) -> None:
    ax.add_patch(Circle(xy, radius, facecolor=colour, edgecolor="k", lw=1.2, zorder=2))
    ax.text(*xy, text, ha="center", va="center", fontsize=9, zorder=3)


def _arrow(ax, start, end, label: str = "", offset: float = 0.25) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, lw=1.2, zorder=1))
    if label:
        mid = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + offset)
        ax.text(*mid, label, ha="center", va="bottom", fontsize=9, color="C3")


def _diagram(ax, a: dict[str, np.ndarray], i: int) -> None:
    point, inputs = a["neuron_points"][i], a["neuron_inputs"][i]
    z, out = float(a["neuron_z"][i]), float(a["neuron_outputs"][i])
    w, b = a["neuron_weights"], float(a["neuron_bias"][0])
    label = int(a["neuron_labels"][i])
    ax.set_xlim(0, 12)
    ax.set_ylim(0, 6)
    ax.set_aspect("equal")  # nodes are circles
    ax.set_axis_off()
    ax.text(0.1, 5.6, f"point (X1, X2) = ({point[0]:.2f}, {point[1]:.2f})", fontsize=9)
    for k, (y_pos, name) in enumerate(((4.0, "X1²"), (1.6, "X2²"))):
        _node(ax, (1.3, y_pos), f"{name}\n{inputs[k]:.3f}")
        _arrow(ax, (1.9, y_pos), (5.0, 2.8 + 0.4 * (1 - 2 * k)), f"w{k + 1} = {w[k]:.3f}")
    _node(ax, (5.7, 2.8), "Σ + b", radius=0.7)
    ax.text(5.7, 1.6, f"b = {b:.3f}", ha="center", fontsize=9, color="C3")
    formula = f"z = {w[0]:.3f}·{inputs[0]:.3f} + {w[1]:.3f}·{inputs[1]:.3f} + {b:.3f} = {z:.4f}"
    ax.text(5.7, 0.6, formula, ha="center", fontsize=8)
    _arrow(ax, (6.4, 2.8), (8.0, 2.8), "z")
    _node(ax, (8.7, 2.8), "tanh", radius=0.65)
    _arrow(ax, (9.35, 2.8), (10.6, 2.8))
    colour = BLUE if out >= 0 else ORANGE
    _node(ax, (11.2, 2.8), f"{out:.3f}", colour=colour, radius=0.6)
    verdict = "right" if (out >= 0) == (label > 0) else "wrong"
    ax.text(11.2, 1.7, f"label {label:+d}\n({verdict})", ha="center", va="top", fontsize=8)


def _neuron(run: RunRecord) -> Figure:
    a, m = run.arrays, run.metrics["neuron"]
    fig = MplFigure(figsize=(13, 6.2), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=(1, 2.4))
    ax = left.subplots()
    _background(ax, a["features_squares_heatmap"])
    _points(ax, a["features_X_test"], a["features_y_test"], "k", size=8)
    for i, p in enumerate(a["neuron_points"]):
        ax.plot(*p, marker="*", ms=18, mec="k", mfc="yellow")
        ax.annotate(f"point {i + 1}", p, xytext=(6, 6), textcoords="offset points", fontsize=9)
    _frame(ax)
    ax.set_title("the neuron's output over the plane", fontsize=10)
    axes = right.subplots(len(a["neuron_points"]), 1)
    for i, axd in enumerate(np.atleast_1d(axes)):
        _diagram(axd, a, i)
        axd.set_title(f"point {i + 1}", fontsize=10, loc="left")
    return Figure(
        "neuron_worked_example",
        "One neuron, worked by hand: output = tanh(w1·X1² + w2·X2² + b), with the weights it "
        "learned on the circle. Computed in NumPy it matches torch's forward pass to "
        f"{m['by_hand_vs_torch_max_abs']:.1e}.",
        fig,
    )


def _datasets(run: RunRecord) -> Figure:
    a, names = run.arrays, run.config["datasets"]
    rows, cols = _grid(len(names))
    fig = MplFigure(figsize=(3.6 * cols, 3.6 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, name in zip(axes, names, strict=False):
        k = _key(name)
        X = np.concatenate([a[f"{k}_X_train"], a[f"{k}_X_test"]])
        y = np.concatenate([a[f"{k}_y_train"], a[f"{k}_y_test"]])
        _points(ax, X, y, "none", size=8)
        _frame(ax)
        ax.set_title(f"{name} ({len(y)} points)", fontsize=10)
    for ax in axes[len(names) :]:
        ax.set_axis_off()
    return Figure(
        "neuron_datasets",
        f"The playground's data sets, regenerated from the site's definitions (noise "
        f"{run.config['noise']:g}). Orange: label -1, blue: +1; regression labels on the same "
        "scale.",
        fig,
    )


def _heatmaps(run: RunRecord) -> Figure:
    a, m, names = run.arrays, run.metrics["datasets"], run.config["datasets"]
    rows, cols = _grid(len(names))
    fig = MplFigure(figsize=(3.8 * cols, 4.0 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, name in zip(axes, names, strict=False):
        k, entry = _key(name), m[name]
        _background(ax, a[f"{k}_heatmap"])
        _points(ax, a[f"{k}_X_train"], a[f"{k}_y_train"], "w", size=12)
        _points(ax, a[f"{k}_X_test"], a[f"{k}_y_test"], "k", size=12)
        _frame(ax)
        hidden = ", ".join(str(h) for h in entry["hidden"]) or "none"
        features = "" if entry["features"] == ["x1", "x2"] else "all 7 features, "
        ax.set_title(
            f"{name}: hidden ({hidden}), {features}{entry['epochs']} epochs\n{_score(entry)}",
            fontsize=9,
        )
    for ax in axes[len(names) :]:
        ax.set_axis_off()
    return Figure(
        "neuron_heatmaps",
        "What each network outputs over [-6, 6]² (background) with the training points (white "
        "edge) and the test points (black edge), as on playground.tensorflow.org.",
        fig,
    )


def _losses(run: RunRecord) -> Figure:
    a, m, names = run.arrays, run.metrics["datasets"], run.config["datasets"]
    rows, cols = _grid(len(names))
    fig = MplFigure(figsize=(3.8 * cols, 3.0 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, name in zip(axes, names, strict=False):
        k = _key(name)
        epochs = np.arange(a[f"{k}_train_loss"].size)
        ax.plot(epochs, a[f"{k}_train_loss"], color="C0", label="train")
        ax.plot(epochs, a[f"{k}_test_loss"], color="C3", label="test")
        ax.set_yscale("log")
        ax.set_title(f"{name}: {_score(m[name])}", fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("loss: mean 0.5 (output - label)²", fontsize=8)
    axes[0].legend(fontsize=8)
    for ax in axes[len(names) :]:
        ax.set_axis_off()
    return Figure(
        "neuron_losses",
        f"Train and test loss of each network (the site's loss; SGD, learning rate "
        f"{run.config['learning_rate']:g}, batches of {run.config['batch_size']}).",
        fig,
    )


def _features(run: RunRecord) -> Figure:
    a, comp = run.arrays, run.metrics["feature_comparison"]
    fig = MplFigure(figsize=(13, 4.2), layout="constrained")
    axes = fig.subplots(1, 3, width_ratios=(1, 1, 1.3))
    for ax, label, title in zip(
        axes[:2], ("linear", "squares"), ("inputs X1, X2", "inputs X1², X2²"), strict=True
    ):
        c = comp[label]
        _background(ax, a[f"features_{label}_heatmap"])
        _points(ax, a["features_X_train"], a["features_y_train"], "w", size=12)
        _points(ax, a["features_X_test"], a["features_y_test"], "k", size=12)
        _frame(ax)
        ax.set_title(
            f"no hidden layer, {title}\ntest accuracy {100 * c['test_accuracy']:.1f} %",
            fontsize=10,
        )
    ax = axes[2]
    for label, colour in (("linear", "C3"), ("squares", "C0")):
        acc_train = a[f"features_{label}_train_accuracy"]
        epochs = np.arange(acc_train.size)
        name = ", ".join(comp[label]["features"])
        ax.plot(epochs, 100 * acc_train, color=colour, ls="--", label=f"{name}: train")
        ax.plot(
            epochs, 100 * a[f"features_{label}_test_accuracy"], color=colour, label=f"{name}: test"
        )
    ax.axhline(50, color="0.5", ls=":", lw=1)
    ax.set_ylim(0, 102)
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)")
    ax.legend(fontsize=8, loc="lower right")
    return Figure(
        "neuron_features",
        "The circle with no hidden layer: on X1, X2 one neuron can only draw a line and stays "
        "near chance; on X1², X2² the circle becomes a line in feature space and the same neuron "
        "separates it.",
        fig,
    )
