"""Figures of lstm: talk vs measured, learning curves, confusion matrix, mistakes."""

from __future__ import annotations

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure
from flowlearn.report.figures.fundamentals import _mnist as F


def draw(run: RunRecord) -> list[Figure]:
    return [
        F.talk_vs_measured(run, "lstm_claims", "The target beside the measured accuracy."),
        F.learning_curves(
            run,
            [""],
            ["row-by-row LSTM"],
            "lstm_curves",
            "Train (dashed) and test (solid) loss and error per epoch.",
        ),
        F.confusion(run, "confusion", "lstm_confusion", "Confusion matrix of the LSTM (test)."),
        F.mistakes(run, "", "lstm_mistakes", "the LSTM"),
    ]
