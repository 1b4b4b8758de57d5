"""Toward "best result today: 0.21 % error" (Wan et al. 2013, DropConnect).

Wan, Zeiler, Zhang, LeCun & Fergus reached 0.21 % with a vote of 5 CNNs with DropConnect,
trained on distorted images for hundreds of epochs. Here: ``n_models`` small modern CNNs
(:class:`flowlearn.models.cnn.SmallCNN`: 3x3 convolutions, batch norm, a DropConnect hidden
layer), each from its own seed, trained with random affine distortions (rotation, scale, shift)
and Adam with exponential learning-rate decay; the ensemble averages their probabilities.
Target in full mode: <= 0.5 % test error. Full mode is for a GPU (``--device cuda``); on 2 CPU
cores one epoch of one model takes minutes.

Run: ``flowlearn run mnist-best --quick`` or ``flowlearn run mnist-best --device cuda``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from pydantic import Field

from flowlearn.data.mnist import RandomAffine, to_tensor
from flowlearn.evaluation.classification import predict
from flowlearn.experiments._base import Claim, Experiment, Result
from flowlearn.experiments.fundamentals import _mnist as M
from flowlearn.models.cnn import SmallCNN
from flowlearn.training import resolve_device, seed_everything

TALK_ERROR = 0.0021
TARGET_ERROR = 0.005


class Config(M.MnistConfig):
    n_models: int = Field(2, ge=1, le=50, description="networks in the ensemble (Wan et al.: 5)")
    epochs: int = Field(12, ge=1, le=500, description="epochs per network")
    width: int = Field(
        32, ge=4, le=256, description="filters of the first block (x2 in the second)"
    )
    hidden: int = Field(128, ge=8, le=4096, description="units of the DropConnect layer")
    regulariser: str = Field(
        "dropconnect", pattern="^(dropconnect|dropout)$", description="'dropconnect' or 'dropout'"
    )
    p: float = Field(0.5, ge=0, lt=1, description="drop probability (Wan et al.: 0.5)")
    lr: float = Field(2e-3, gt=0, le=1.0, description="Adam learning rate")
    lr_decay: float = Field(0.8, gt=0, le=1.0, description="learning rate factor per epoch")
    degrees: float = Field(10.0, ge=0, le=45, description="max rotation of the distortions, deg")
    shift: float = Field(2.0, ge=0, le=6, description="max shift of the distortions, pixels")
    scale: float = Field(0.1, ge=0, le=0.3, description="max relative scaling of the distortions")


def run(config: Config, run_dir: Path) -> Result:
    device = resolve_device(config.device)
    train, test = M.load(config, "train"), M.load(config, "test")
    x_train, x_test = to_tensor(train.images, True), to_tensor(test.images, True)
    y_train, y_test = torch.from_numpy(train.labels), torch.from_numpy(test.labels)
    test_loader = M.loader(x_test, y_test, 1000, shuffle=False)
    background = float((0 - 0.1307) / 0.3081)

    metrics: dict = {"n_train": len(train), "n_test": len(test)}
    arrays: dict[str, np.ndarray] = {}
    probs_sum = np.zeros((len(test), 10))
    singles = []
    for i in range(config.n_models):
        seed = config.seed + 1000 * i
        seed_everything(seed)
        model = SmallCNN(config.width, config.hidden, config.regulariser, config.p)
        module = M.classifier_module(model, config, train.fingerprint(), config.lr_decay)
        augment = RandomAffine(config.degrees, config.scale, config.shift, background, seed)
        train_loader = M.loader(x_train, y_train, config.batch_size, True, seed, augment)
        history = M.train(
            module, train_loader, test_loader, run_dir / f"model{i}", config.epochs, device
        )
        probs = torch.softmax(predict(model, x_test, device=device), 1).numpy()
        probs_sum += probs
        singles.append(float((probs.argmax(1) == test.labels).mean()))
        arrays.update(M.curves(history, prefix=f"model{i}_"))
        if i == 0:
            metrics["parameters"] = sum(p.numel() for p in model.parameters())
    m, a = M.report_from_probabilities(probs_sum / config.n_models, test)
    metrics.update(m)
    metrics["single_test_errors"] = [1 - s for s in singles]
    metrics["best_single_test_error"] = 1 - max(singles)
    metrics["mean_single_test_error"] = 1 - float(np.mean(singles))
    arrays.update(a)
    arrays["single_test_errors"] = np.array(metrics["single_test_errors"], np.float32)
    return Result(metrics=metrics, claims=claims(config, metrics), arrays=arrays)


def claims(config: Config, m: dict) -> list[Claim]:
    err = m["test_error"]
    quick = M.subset_reason(config, config.epochs)
    setup = (
        f"vote of {config.n_models} SmallCNN ({m['parameters']:,} parameters each, "
        f"{config.regulariser} p = {config.p:g}), {config.epochs} epochs of Adam on randomly "
        f"distorted images; single networks: mean {M.pct(m['mean_single_test_error'])}, best "
        f"{M.pct(m['best_single_test_error'])} error."
    )
    return [
        Claim(
            slide="MNIST: best result today (Wan et al. 2013, DropConnect)",
            talk="0.21 % error",
            measured=f"{M.pct(err)} error",
            reproduced=err <= TALK_ERROR,
            reason=quick
            + f"{setup} Wan et al. trained 5 larger networks for far longer (their 0.21 % also "
            "relies on their distortions and DropConnect inference); 0.21 % is 21 test images.",
        ),
        Claim(
            slide="MNIST: best result today (flowlearn's full-mode target)",
            talk="<= 0.5 % error",
            measured=f"{M.pct(err)} error",
            reproduced=err <= TARGET_ERROR,
            reason=quick + setup,
        ),
    ]


EXPERIMENT = Experiment(
    name="mnist-best",
    title="Toward the best MNIST result: augmentation, DropConnect, an ensemble",
    claim="Best result today: 0.21 % error on MNIST (Wan et al. 2013, DropConnect).",
    order=70,
    config=Config,
    run=run,
    quick={"n_train": 2000, "n_test": 1000, "epochs": 2, "n_models": 2, "width": 16},
    runtime_quick="~50 s",
    runtime_full="~35 min (2,091 s measured: 0.32 % error)",
    claims=claims,
)
