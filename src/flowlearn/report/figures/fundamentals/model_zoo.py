"""Figures of model-zoo: parameter counts beside the talk's, forward-pass times, and the
ResNet-18 training (curves, confusion matrix, mistakes)."""

from __future__ import annotations

from matplotlib.figure import Figure as MplFigure

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure
from flowlearn.report.figures.fundamentals import _mnist as F

TALK = {"googlenet": 11_193_984, "resnet50": 25_636_712}


def draw(run: RunRecord) -> list[Figure]:
    figs = [_counts(run)]
    if "train_loss" in run.arrays:
        classes = run.metrics.get("finetune_classes")
        short = [c.split("/")[0][:7] for c in classes] if classes else None
        data = run.metrics.get("finetune_dataset", "")
        figs += [
            F.learning_curves(
                run,
                [""],
                [f"ResNet-18 on {data}"],
                "model_zoo_curves",
                "ResNet-18 trained from scratch: train (dashed) and test (solid) per epoch.",
            ),
            F.confusion(
                run,
                "confusion",
                "model_zoo_confusion",
                f"Confusion matrix of the ResNet-18 on {data} (test).",
                short,
            ),
            F.mistakes(run, "", "model_zoo_mistakes", "the ResNet-18", short),
        ]
    return figs


def _counts(run: RunRecord) -> Figure:
    m = run.metrics
    k = m["keras_resnet50"]
    rows = [
        ("AlexNet", m["alexnet_parameters"], None, m["alexnet_forward_s"]),
        ("GoogLeNet", m["googlenet_parameters"], TALK["googlenet"], m["googlenet_forward_s"]),
        ("GoogLeNet + aux", m["googlenet_aux_parameters"], TALK["googlenet"], None),
        ("ResNet-50 (torch)", m["resnet50_parameters"], TALK["resnet50"], m["resnet50_forward_s"]),
        ("ResNet-50 (Keras count)", k["keras"], TALK["resnet50"], None),
        ("ResNet-18", m["resnet18_parameters"], None, m["resnet18_forward_s"]),
    ]
    fig = MplFigure(figsize=(11, 3.8), layout="constrained")
    ax, bx = fig.subplots(1, 2)
    for i, (_, n, talk, _) in enumerate(rows):
        ax.barh(i - 0.2, n / 1e6, 0.4, color="C0", label="built here" if i == 0 else None)
        ax.text(n / 1e6, i - 0.2, f" {n:,}", va="center", fontsize=7)
        if talk:
            ax.barh(i + 0.2, talk / 1e6, 0.4, color="0.6", label="talk" if i == 1 else None)
            ax.text(talk / 1e6, i + 0.2, f" {talk:,}", va="center", fontsize=7)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r[0] for r in rows], fontsize=8)
    ax.set(xlabel="parameters (millions)", xlim=(0, 80))
    ax.legend(fontsize=8)
    timed = [r for r in rows if r[3] is not None]
    bx.barh(range(len(timed)), [1000 * r[3] for r in timed], color="C1")
    bx.set_yticks(range(len(timed)))
    bx.set_yticklabels([r[0] for r in timed], fontsize=8)
    size = run.config.get("image_size", 224)
    bx.set(xlabel=f"forward pass of one {size}x{size} image (ms)")
    return Figure(
        "model_zoo_counts",
        "Parameter counts of the models built here beside the talk's, and forward-pass times.",
        fig,
    )
