"""Figures of lenet5: talk vs measured, learning curves, confusion matrix, mistakes."""

from __future__ import annotations

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure
from flowlearn.report.figures.fundamentals import _mnist as F


def draw(run: RunRecord) -> list[Figure]:
    n = run.metrics["parameters"]
    return [
        F.talk_vs_measured(run, "lenet5_claims", "The talk's figures beside the measured ones."),
        F.learning_curves(
            run,
            [""],
            [f"LeNet-5 ({n:,} parameters)"],
            "lenet5_curves",
            "Train (dashed, on distorted images when augment is on) and test (solid) loss and "
            "error per epoch.",
        ),
        F.confusion(run, "confusion", "lenet5_confusion", "Confusion matrix of LeNet-5 (test)."),
        F.mistakes(run, "", "lenet5_mistakes", "LeNet-5"),
    ]
