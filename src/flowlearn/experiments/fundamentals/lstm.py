"""A recurrent network on sequential MNIST: the talk's LSTM, "a convolution over time".

Each image is read one row per time step (28 steps of 28 pixels) by an LSTM
(:class:`flowlearn.models.rnn.RowLSTM`); its last hidden state is classified. Adam,
cross-entropy, standardised pixels. Target: >= 97 % test accuracy in full mode.

Run: ``flowlearn run lstm --quick`` or ``flowlearn run lstm``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from pydantic import Field

from flowlearn.data.mnist import to_tensor
from flowlearn.experiments._base import Claim, Experiment, Result
from flowlearn.experiments.fundamentals import _mnist as M
from flowlearn.models.rnn import RowLSTM
from flowlearn.training import resolve_device

TARGET = 0.97


class Config(M.MnistConfig):
    hidden: int = Field(128, ge=1, le=4096, description="LSTM hidden units; 128 is plenty")
    layers: int = Field(1, ge=1, le=4, description="stacked LSTM layers")
    epochs: int = Field(10, ge=1, le=500, description="training epochs")
    lr: float = Field(2e-3, gt=0, le=1.0, description="Adam learning rate")
    lr_decay: float = Field(0.8, gt=0, le=1.0, description="learning rate factor per epoch")


def run(config: Config, run_dir: Path) -> Result:
    device = resolve_device(config.device)
    train, test = M.load(config, "train"), M.load(config, "test")
    x_train, x_test = to_tensor(train.images, True), to_tensor(test.images, True)
    y_train, y_test = torch.from_numpy(train.labels), torch.from_numpy(test.labels)
    model = RowLSTM(config.hidden, config.layers)
    module = M.classifier_module(model, config, train.fingerprint(), config.lr_decay)
    train_loader = M.loader(x_train, y_train, config.batch_size, True, config.seed)
    test_loader = M.loader(x_test, y_test, 1000, shuffle=False)
    history = M.train(module, train_loader, test_loader, run_dir, config.epochs, device)
    metrics, arrays, _ = M.classifier_report(model, x_test, test, device)
    metrics.update(
        n_train=len(train),
        n_test=len(test),
        parameters=sum(p.numel() for p in model.parameters()),
        time_steps=28,
    )
    arrays.update(M.curves(history))
    return Result(metrics=metrics, claims=claims(config, metrics), arrays=arrays)


def claims(config: Config, m: dict) -> list[Claim]:
    acc = m["test_accuracy"]
    return [
        Claim(
            slide="Recurrent networks: LSTM, a convolution over time",
            talk=">= 97 % accuracy on sequential MNIST (flowlearn's full-mode target)",
            measured=M.pct(acc),
            reproduced=acc >= TARGET,
            reason=M.subset_reason(config, config.epochs)
            + f"one LSTM layer of {config.hidden} units reads the 28 rows in order "
            f"({m['parameters']:,} parameters), {config.epochs} epochs of Adam (lr "
            f"{config.lr:g}, x{config.lr_decay:g} per epoch); the talk gives no MNIST figure "
            "for its LSTM.",
        )
    ]


EXPERIMENT = Experiment(
    name="lstm",
    title="An LSTM reads MNIST row by row",
    claim="A recurrent network (LSTM) is a convolution over time: it classifies digits read "
    "one row at a time.",
    order=120,
    config=Config,
    run=run,
    quick={"n_train": 5000, "n_test": 1000, "epochs": 3},
    runtime_quick="~5-45 s",
    runtime_full="~5 min (272 s measured: 98.73 %)",
    claims=claims,
)
