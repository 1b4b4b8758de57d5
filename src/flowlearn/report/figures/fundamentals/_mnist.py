"""Figure pieces the MNIST experiments share: learning curves, confusion matrices, image grids,
and the talk's figure beside the measured one."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure as MplFigure

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure


def learning_curves(
    run: RunRecord, prefixes: Sequence[str], labels: Sequence[str], name: str, caption: str
) -> Figure:
    """Loss (and accuracy when saved) per epoch, train dashed and test solid, per model."""
    a = run.arrays
    has_acc = any(f"{p}train_accuracy" in a for p in prefixes)
    fig = MplFigure(figsize=(11 if has_acc else 6, 3.8), layout="constrained")
    axes = fig.subplots(1, 2 if has_acc else 1, squeeze=False)[0]
    for i, (p, label) in enumerate(zip(prefixes, labels, strict=True)):
        color = f"C{i}"
        epochs = np.arange(1, len(a[f"{p}train_loss"]) + 1)
        axes[0].plot(epochs, a[f"{p}train_loss"], "--o", color=color, ms=3, label=f"{label} train")
        axes[0].plot(epochs, a[f"{p}test_loss"], "-o", color=color, ms=3, label=f"{label} test")
        if has_acc and f"{p}train_accuracy" in a:
            for split, style in (("train", "--o"), ("test", "-o")):
                err = 100 * (1 - a[f"{p}{split}_accuracy"])
                axes[1].plot(epochs, err, style, color=color, ms=3, label=f"{label} {split}")
    axes[0].set(xlabel="epoch", ylabel="loss", title="loss")
    axes[0].legend(fontsize=8)
    if has_acc:
        axes[1].set(xlabel="epoch", ylabel="error (%)", title="classification error", yscale="log")
        axes[1].legend(fontsize=8)
    return Figure(name, caption, fig)


def confusion(run: RunRecord, key: str, name: str, caption: str, classes=None) -> Figure:
    """The confusion matrix ``run.arrays[key]`` (rows: true, columns: predicted), counts shown."""
    cm = run.arrays[key]
    n = cm.shape[0]
    classes = classes or [str(i) for i in range(n)]
    fig = MplFigure(figsize=(5.5, 4.8), layout="constrained")
    ax = fig.subplots()
    off = cm.astype(float).copy()
    np.fill_diagonal(off, np.nan)
    im = ax.imshow(off, cmap="Reds")
    for i in range(n):
        for j in range(n):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=6)
    ax.set(xticks=range(n), yticks=range(n), xlabel="predicted", ylabel="true")
    ax.set_xticklabels(classes, fontsize=7, rotation=90 if len(classes[0]) > 2 else 0)
    ax.set_yticklabels(classes, fontsize=7)
    fig.colorbar(im, ax=ax, label="errors (off-diagonal)")
    return Figure(name, caption, fig)


def image_grid(
    images: np.ndarray, titles: Sequence[str] | None, name: str, caption: str, cols: int = 12,
    rows_of: Sequence[np.ndarray] | None = None, row_labels: Sequence[str] | None = None,
) -> Figure:  # fmt: skip
    """Images (N, 28, 28) in a grid, optional titles; or several aligned rows (``rows_of``)."""
    if rows_of is None:
        n = len(images)
        rows = max(1, int(np.ceil(n / cols)))
        stacks = [images[r * cols : (r + 1) * cols] for r in range(rows)]
    else:
        stacks = list(rows_of)
        cols = max(len(s) for s in stacks)
        rows = len(stacks)
    fig = MplFigure(figsize=(cols * 0.9, rows * 1.05 + 0.3), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    k = 0
    for r, stack in enumerate(stacks):
        for c in range(cols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            for s in ax.spines.values():
                s.set_visible(False)
            if c < len(stack):
                ax.imshow(
                    stack[c], cmap="gray_r", vmin=0, vmax=255 if stack.dtype == np.uint8 else 1
                )
                if titles is not None and rows_of is None and k < len(titles):
                    ax.set_title(titles[k], fontsize=7)
                k += 1
        if row_labels is not None:
            axes[r, 0].set_ylabel(row_labels[r], fontsize=8)
    if not len(images) and rows_of is None:
        axes[0, 0].text(0.5, 0.5, "none", ha="center", va="center")
    return Figure(name, caption, fig)


def mistakes(run: RunRecord, prefix: str, name: str, what: str, classes=None) -> Figure:
    a = run.arrays
    imgs = a[f"{prefix}mistake_images"]
    classes = classes or [str(i) for i in range(10)]
    titles = [
        f"{classes[t]}→{classes[p]} {100 * c:.0f}%"
        for t, p, c in zip(
            a[f"{prefix}mistake_true"],
            a[f"{prefix}mistake_pred"],
            a[f"{prefix}mistake_confidence"],
            strict=True,
        )
    ]
    return image_grid(
        imgs,
        titles,
        name,
        f"The {len(imgs)} most confident mistakes of {what} on the test set: true → predicted, "
        "confidence of the prediction.",
    )


def talk_vs_measured(run: RunRecord, name: str, caption: str) -> Figure:
    """One small panel per claim with numbers: the talk's (grey) beside the measured (green when
    reproduced, red otherwise), each panel on its own scale."""
    rows = []
    for c in run.claims:
        talk, measured = _number(c.talk), _number(c.measured)
        if talk is not None and measured is not None:
            rows.append((c.slide, talk, measured, c.reproduced))
    fig = MplFigure(figsize=(7, 0.4 + 0.9 * max(1, len(rows))), layout="constrained")
    axes = fig.subplots(max(1, len(rows)), 1, squeeze=False)[:, 0]
    for ax, (slide, talk, measured, ok) in zip(axes, rows, strict=False):
        ax.barh([1, 0], [talk, measured], color=["0.6", "C2" if ok else "C3"], height=0.7)
        ax.set_yticks([1, 0])
        ax.set_yticklabels(["talk", "measured"], fontsize=7)
        ax.set_xlim(0, 1.3 * max(talk, measured))
        for y, v in ((1, talk), (0, measured)):
            ax.text(v, y, f" {v:,g}", va="center", fontsize=7)
        ax.set_title(slide, fontsize=8, loc="left")
        ax.tick_params(axis="x", labelsize=7)
    return Figure(name, caption, fig)


def _number(text: str) -> float | None:
    import re

    m = re.search(r"-?\d[\d,]*\.?\d*", text)
    return float(m.group().replace(",", "")) if m else None
