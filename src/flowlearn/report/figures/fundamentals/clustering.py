"""Figures of clustering: purity and NMI per representation, naming vs classifier accuracy
against the number of labels, k-means centroids and cluster members, the naming's confusion."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure as MplFigure

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure
from flowlearn.report.figures.fundamentals import _mnist as F

SHOTS = (1, 5, 10)


def draw(run: RunRecord) -> list[Figure]:
    a, m = run.arrays, run.metrics
    reps = m["representations"]
    figs = [_scores(run, reps), _few_labels(run, reps)]
    figs.append(
        F.image_grid(
            a["pixel_centroids"],
            [f"cluster {i}" for i in range(len(a["pixel_centroids"]))],
            "clustering_centroids",
            "Centroids of the k-means clusters on raw pixels: the 'cats' found without labels.",
            cols=10,
        )
    )
    ex = a["pixel_cluster_examples"]
    figs.append(
        F.image_grid(
            ex[0],
            None,
            "clustering_members",
            "Test images assigned to each raw-pixel cluster (one row per cluster).",
            rows_of=list(ex),
            row_labels=[f"c{i}" for i in range(len(ex))],
        )
    )
    best = max(reps, key=lambda r: m[f"{r}_purity"])
    figs.append(
        F.confusion(
            run,
            f"{best}_confusion",
            "clustering_confusion",
            f"Test digits vs the name of their {best} cluster (clusters named by majority of the "
            "training labels: the best naming possible).",
        )
    )
    if "ae_train_loss" in a:
        figs.append(
            F.learning_curves(
                run,
                ["ae_"],
                ["autoencoder"],
                "clustering_ae_curves",
                "The autoencoder whose codes are clustered: train (dashed), test (solid) loss.",
            )
        )
    return figs


def _scores(run: RunRecord, reps) -> Figure:
    m = run.metrics
    fig = MplFigure(figsize=(6, 3.5), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(reps))
    ax.bar(x - 0.2, [m[f"{r}_purity"] for r in reps], 0.4, label="purity")
    ax.bar(x + 0.2, [m[f"{r}_nmi"] for r in reps], 0.4, label="NMI")
    ax.axhline(0.11, color="k", ls=":", label="chance purity")
    ax.set_xticks(x)
    ax.set_xticklabels(reps)
    ax.set(ylim=(0, 1), ylabel="score on test digits")
    ax.legend(fontsize=8)
    return Figure("clustering_scores", "k-means clusters vs the true digits.", fig)


def _few_labels(run: RunRecord, reps) -> Figure:
    m = run.metrics
    fig = MplFigure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    for i, r in enumerate(reps):
        ax.plot(SHOTS, [100 * m[f"{r}_named_{k}"] for k in SHOTS], "-o", color=f"C{i}",
                label=f"{r}: named clusters")  # fmt: skip
        ax.plot(SHOTS, [100 * m[f"{r}_classifier_{k}"] for k in SHOTS], "--s", color=f"C{i}",
                label=f"{r}: classifier")  # fmt: skip
    ax.set(xlabel="labelled images per class", ylabel="test accuracy (%)", xticks=SHOTS)
    ax.legend(fontsize=7)
    return Figure(
        "clustering_few_labels",
        "Learning the names quickly: clusters named from a few labels (solid) vs a logistic "
        "regression trained on the same labels (dashed).",
        fig,
    )
