"""LeNet-5, "~1 % error": the network of LeCun, Bottou, Bengio & Haffner (1998) on MNIST.

Built as the paper describes it (C1-S2-C3-S4-C5-F6-output, the partial C3 connection table,
trainable subsampling, scaled tanh, 32x32 inputs scaled to [-0.1, 1.175]); only the output
layer differs (linear + cross-entropy instead of fixed Euclidean RBF units + MAP loss), see
:mod:`flowlearn.models.lenet`. The paper's 0.95 % test error is without distortions, 0.8 % with;
``augment`` adds random affine distortions (rotation, scale, shift), as its 0.8 % run did.

Run: ``flowlearn run lenet5 --quick`` or ``flowlearn run lenet5``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from pydantic import Field

from flowlearn.data.mnist import RandomAffine, to_tensor
from flowlearn.experiments._base import Claim, Experiment, Result
from flowlearn.experiments.fundamentals import _mnist as M
from flowlearn.models.lenet import PAPER_COUNTS, LeNet5, paper_scaling
from flowlearn.training import resolve_device

TALK_ERROR = 0.01
#: "~1 %" holds within this (absolute error)
TALK_TOLERANCE = 0.003
TARGET_ERROR = 0.009
PAPER_ERROR = 0.0095


class Config(M.MnistConfig):
    epochs: int = Field(20, ge=1, le=500, description="training epochs (the paper: 20)")
    lr: float = Field(2e-3, gt=0, le=1.0, description="Adam learning rate")
    lr_decay: float = Field(0.85, gt=0, le=1.0, description="learning rate factor per epoch")
    c3: str = Field("table", pattern="^(table|full)$", description="'table' (paper) or 'full'")
    augment: bool = Field(True, description="random affine distortions of the training images")
    degrees: float = Field(5.0, ge=0, le=45, description="max rotation of the distortions, deg")
    shift: float = Field(2.0, ge=0, le=6, description="max shift of the distortions, pixels")
    scale: float = Field(0.05, ge=0, le=0.3, description="max relative scaling of the distortions")


def run(config: Config, run_dir: Path) -> Result:
    device = resolve_device(config.device)
    train, test = M.load(config, "train"), M.load(config, "test")
    x_train = paper_scaling(to_tensor(train.images))
    x_test = paper_scaling(to_tensor(test.images))
    y_train, y_test = torch.from_numpy(train.labels), torch.from_numpy(test.labels)
    collate = (
        RandomAffine(config.degrees, config.scale, config.shift, fill=-0.1, seed=config.seed)
        if config.augment
        else None
    )
    train_loader = M.loader(x_train, y_train, config.batch_size, True, config.seed, collate)
    test_loader = M.loader(x_test, y_test, 1000, shuffle=False)

    model = LeNet5(c3=config.c3)
    counts = {
        name: sum(p.numel() for p in getattr(model, name).parameters()) for name in PAPER_COUNTS
    }
    n_params = sum(p.numel() for p in model.parameters())
    print(f"LeNet-5 ({config.c3} C3): {n_params:,} trainable parameters {counts}")
    module = M.classifier_module(model, config, train.fingerprint(), config.lr_decay)
    history = M.train(module, train_loader, test_loader, run_dir, config.epochs, device)
    metrics, arrays, _ = M.classifier_report(model, x_test, test, device)
    metrics.update(
        n_train=len(train),
        n_test=len(test),
        parameters=n_params,
        parameters_by_layer=counts,
        parameters_full_c3=sum(p.numel() for p in LeNet5(c3="full").parameters()),
        parameters_full_c3_maxpool=sum(
            p.numel() for p in LeNet5(c3="full", subsampling="max").parameters()
        ),
        parameters_paper_rbf_output=n_params - 10,
    )
    arrays.update(M.curves(history))
    arrays["example_images"] = test.images[:12].astype(np.uint8)
    return Result(metrics=metrics, claims=claims(config, metrics), arrays=arrays)


def claims(config: Config, m: dict) -> list[Claim]:
    err = m["test_error"]
    quick = M.subset_reason(config, config.epochs)
    setup = (
        f"{config.epochs} epochs of Adam, batch {config.batch_size}, "
        + ("with" if config.augment else "without")
        + " random distortions; final-epoch model, single network."
    )
    return [
        Claim(
            slide="MNIST: LeNet-5 (LeCun et al. 1998)",
            talk="~1 % error",
            measured=f"{M.pct(err)} error",
            reproduced=abs(err - TALK_ERROR) <= TALK_TOLERANCE or err < TALK_ERROR,
            reason=quick
            + f"reproduced when the error is at most 1 % + {100 * TALK_TOLERANCE:.1f} points. "
            f"The paper reports 0.95 % without and 0.8 % with distortions. {setup}",
        ),
        Claim(
            slide="MNIST: LeNet-5 parameters",
            talk="60,000 trainable parameters (LeCun et al. 1998)",
            measured=f"{m['parameters']:,}",
            reproduced=abs(m["parameters"] - 60_000) <= 1_000,
            reason=", ".join(f"{k} {v:,}" for k, v in m["parameters_by_layer"].items())
            + f" (the paper: {', '.join(f'{k} {v:,}' for k, v in PAPER_COUNTS.items())}); the "
            "paper's RBF output has fixed 84-vectors and no bias "
            f"({m['parameters_paper_rbf_output']:,} in all). Full C3 "
            f"connectivity: {m['parameters_full_c3']:,}; with max-pooling instead of trainable "
            f"subsampling (the usual modern 'LeNet-5'): {m['parameters_full_c3_maxpool']:,}.",
        ),
        Claim(
            slide="MNIST: LeNet-5 (flowlearn's full-mode target)",
            talk="<= 0.9 % error, single model",
            measured=f"{M.pct(err)} error",
            reproduced=err <= TARGET_ERROR,
            reason=quick + setup,
        ),
    ]


EXPERIMENT = Experiment(
    name="lenet5",
    title="LeNet-5 on MNIST",
    claim="LeNet-5 (LeCun et al. 1998): ~1 % error on MNIST.",
    order=60,
    config=Config,
    run=run,
    quick={"n_train": 5000, "n_test": 1000, "epochs": 3, "lr": 3e-3, "batch_size": 64},
    runtime_quick="~20-90 s",
    runtime_full="~5 min (308 s measured: 0.88 % error)",
    claims=claims,
)
