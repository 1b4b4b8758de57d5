"""Figures of mnist-best: talk vs measured, learning curves of every network, the ensemble's
confusion matrix and mistakes."""

from __future__ import annotations

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure
from flowlearn.report.figures.fundamentals import _mnist as F


def draw(run: RunRecord) -> list[Figure]:
    n = len(run.arrays["single_test_errors"])
    prefixes = [f"model{i}_" for i in range(n)]
    return [
        F.talk_vs_measured(run, "mnist_best_claims", "The talk's 0.21 % beside the measured."),
        F.learning_curves(
            run,
            prefixes,
            [f"net {i}" for i in range(n)],
            "mnist_best_curves",
            "Every network of the ensemble: train (dashed, distorted images) and test (solid).",
        ),
        F.confusion(run, "confusion", "mnist_best_confusion", "Confusion matrix of the ensemble."),
        F.mistakes(run, "", "mnist_best_mistakes", "the ensemble"),
    ]
