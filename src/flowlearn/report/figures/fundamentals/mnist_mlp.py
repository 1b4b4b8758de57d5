"""Figures of mnist-mlp: learning curves of both models, the confusion matrix and the mistakes
of the one-hidden-layer network, the talk's 91.5 % beside the measured accuracies."""

from __future__ import annotations

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure
from flowlearn.report.figures.fundamentals import _mnist as F


def draw(run: RunRecord) -> list[Figure]:
    hidden = run.config.get("hidden", "?")
    return [
        F.talk_vs_measured(
            run, "mnist_mlp_claims", "The talk's 91.5 % beside the measured test accuracies."
        ),
        F.learning_curves(
            run,
            ["softmax_", "mlp_"],
            ["softmax regression", f"784-{hidden}-10"],
            "mnist_mlp_curves",
            "Train (dashed) and test (solid) loss and error per epoch.",
        ),
        F.confusion(
            run,
            "mlp_confusion",
            "mnist_mlp_confusion",
            f"Confusion matrix of the 784-{hidden}-10 network on the test set.",
        ),
        F.mistakes(run, "mlp_", "mnist_mlp_mistakes", f"the 784-{hidden}-10 network"),
    ]
