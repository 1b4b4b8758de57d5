"""MNIST with a perceptron: "784 pixels on input, 0-9: 10 outputs, 1 hidden layer: 91.5 %".

Two models on the same data, both trained with the flowlearn trainer (Adam, cross-entropy,
standardised pixels): softmax regression (no hidden layer, 7,850 parameters), the likely source
of the slide's 91.5 %, and a perceptron with one hidden layer of ``hidden`` ReLU units
(784-800-10: 636,010 parameters), which does much better.

Run: ``flowlearn run mnist-mlp --quick`` (5,000 images, 3 epochs) or ``flowlearn run mnist-mlp``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from pydantic import Field
from torch import nn

from flowlearn.data.mnist import to_tensor
from flowlearn.experiments._base import Claim, Experiment, Result
from flowlearn.experiments.fundamentals import _mnist as M
from flowlearn.models.mlp import MLP
from flowlearn.training import resolve_device

TALK_ACCURACY = 0.915
#: Softmax regression "is" the slide's model when 91.5 % lies inside the 95 % binomial
#: interval of its measured accuracy (z = 1.96; +-0.5 points on the 10,000 test images).
Z_95 = 1.96
TARGET_MLP = 0.98


def accuracy_interval(accuracy: float, n: int) -> float:
    """Half-width of the 95 % normal-approximation interval of an accuracy on ``n`` images."""
    return Z_95 * math.sqrt(max(accuracy * (1 - accuracy), 0.0) / max(n, 1))


class Config(M.MnistConfig):
    hidden: int = Field(800, ge=1, le=8192, description="hidden units (Simard et al. 2003: 800)")
    epochs: int = Field(20, ge=1, le=500, description="epochs of the one-hidden-layer network")
    softmax_epochs: int = Field(10, ge=1, le=500, description="epochs of softmax regression")
    lr: float = Field(1e-3, gt=0, le=1.0, description="Adam learning rate; 1e-3 is standard")
    lr_decay: float = Field(
        0.9, gt=0, le=1.0, description="learning rate multiplied by this after each epoch"
    )


def _perceptron(hidden: tuple[int, ...]) -> nn.Module:
    return nn.Sequential(nn.Flatten(), MLP(784, hidden, 10, activation="relu"))


def run(config: Config, run_dir: Path) -> Result:
    device = resolve_device(config.device)
    train, test = M.load(config, "train"), M.load(config, "test")
    x_train, x_test = to_tensor(train.images, True), to_tensor(test.images, True)
    y_train, y_test = torch.from_numpy(train.labels), torch.from_numpy(test.labels)
    test_loader = M.loader(x_test, y_test, 1000, shuffle=False)

    metrics: dict = {"n_train": len(train), "n_test": len(test)}
    arrays: dict[str, np.ndarray] = {}
    for name, hidden, epochs in (
        ("softmax", (), config.softmax_epochs),
        ("mlp", (config.hidden,), config.epochs),
    ):
        model = _perceptron(hidden)
        module = M.classifier_module(model, config, train.fingerprint(), config.lr_decay)
        train_loader = M.loader(x_train, y_train, config.batch_size, True, config.seed)
        history = M.train(module, train_loader, test_loader, run_dir / name, epochs, device)
        m, a, _ = M.classifier_report(model, x_test, test, device, prefix=f"{name}_")
        metrics.update(m)
        metrics[f"{name}_parameters"] = sum(p.numel() for p in model.parameters())
        metrics[f"{name}_epochs"] = epochs
        arrays.update(a)
        arrays.update(M.curves(history, prefix=f"{name}_"))
    return Result(metrics=metrics, claims=claims(config, metrics), arrays=arrays)


def claims(config: Config, m: dict) -> list[Claim]:
    soft, mlp = m["softmax_test_accuracy"], m["mlp_test_accuracy"]
    half = accuracy_interval(soft, m["n_test"])
    quick = M.subset_reason(config, config.epochs)
    return [
        Claim(
            slide="MNIST: 784 pixels on input, 10 outputs, 1 hidden layer",
            talk="91.5 % accuracy",
            measured=f"{M.pct(mlp)} (784-{config.hidden}-10, {m['mlp_parameters']:,} parameters)",
            reproduced=mlp >= TALK_ACCURACY,
            reason=quick
            + f"reproduced when one hidden layer reaches at least the talk's 91.5 %: it gets "
            f"{M.pct(mlp)} on {m['n_test']} test images, {100 * (mlp - TALK_ACCURACY):+.1f} "
            "points; the slide's figure is that of a model without hidden layer (next claim).",
        ),
        Claim(
            slide="MNIST: 784 pixels on input, 10 outputs (no hidden layer)",
            talk="91.5 % accuracy",
            measured=f"{M.pct(soft)} +- {M.pct(half)} (softmax regression, "
            f"{m['softmax_parameters']:,} parameters)",
            reproduced=abs(soft - TALK_ACCURACY) <= half,
            reason=quick + f"softmax regression (784 inputs straight to 10 outputs) is "
            f"{100 * (soft - TALK_ACCURACY):+.2f} points from 91.5 %; reproduced when 91.5 % "
            f"lies inside the 95 % interval of the accuracy measured on {m['n_test']} test "
            f"images (+-{M.pct(half)}). Fully trained it gives the ~92 % usually quoted for "
            "it: of the models here, the slide's figure is closest to this one.",
        ),
        Claim(
            slide="MNIST: 1 hidden layer (flowlearn's full-mode target)",
            talk=">= 98.0 % accuracy",
            measured=M.pct(mlp),
            reproduced=mlp >= TARGET_MLP,
            reason=quick
            + f"{config.epochs} epochs of Adam (lr {config.lr:g}, x{config.lr_decay:g} per "
            f"epoch), batch {config.batch_size}, no augmentation; final-epoch model.",
        ),
    ]


EXPERIMENT = Experiment(
    name="mnist-mlp",
    title="MNIST with one hidden layer (and none)",
    claim="784 pixels on input, 10 outputs, 1 hidden layer: 91.5 % accuracy.",
    order=50,
    config=Config,
    run=run,
    quick={"n_train": 5000, "n_test": 2000, "epochs": 3, "softmax_epochs": 3},
    runtime_quick="~15-30 s",
    runtime_full="~3 min (175 s measured: 98.47 %)",
    claims=claims,
)
