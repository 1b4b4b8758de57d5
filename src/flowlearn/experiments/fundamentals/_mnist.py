"""What the MNIST experiments share: data fields of their configs, loaders, training with the
flowlearn trainer, and the report of a classifier (curves, confusion matrix, mistakes)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import Field
from torch.utils.data import DataLoader, TensorDataset

from flowlearn.data import mnist
from flowlearn.evaluation.classification import accuracy_metric, confusion_matrix, predict
from flowlearn.experiments._base import ExperimentConfig
from flowlearn.training import LAST_CHECKPOINT, SupervisedModule, fit

#: misclassified / worst-reconstructed examples kept for the figures
N_EXAMPLES = 24


class MnistConfig(ExperimentConfig):
    """Fields of every MNIST experiment: where the data are, how much of them, how to train."""

    data_dir: str | None = Field(
        None,
        description="folder holding the four MNIST IDX files (or <data_dir>/mnist); None looks "
        "in $FLOWLEARN_DATA/mnist, <repo>/../shared/data/mnist, then ~/.cache/flowlearn/mnist "
        "(downloading there)",
    )
    n_train: int | None = Field(
        None, ge=10, le=60_000, description="training images, a fixed random subset; None: 60,000"
    )
    n_test: int | None = Field(
        None, ge=10, le=10_000, description="test images, a fixed random subset; None: 10,000"
    )
    batch_size: int = Field(128, ge=1, le=8192, description="mini-batch size; 128 is the usual")


def load(config: MnistConfig, split: str, dataset: str = "mnist") -> mnist.ImageSplit:
    """The split, subset to ``n_train`` / ``n_test`` images with the run's seed."""
    data = mnist.load(split, dataset=dataset, data_dir=config.data_dir)
    n = config.n_train if split == "train" else config.n_test
    return data.take(n, seed=config.seed + (0 if split == "train" else 1))


def loader(
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    collate_fn: Any = None,
) -> DataLoader:
    """A single-process loader; shuffled with its own seeded generator, so runs repeat."""
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(
        TensorDataset(x, y),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator,
        num_workers=0,
        collate_fn=collate_fn,
    )


class TunedModule(SupervisedModule):
    """``SupervisedModule`` with optimizer options (Adadelta's ``rho``, SGD's ``momentum``) and an
    optional per-epoch exponential learning-rate decay ``gamma``."""

    def __init__(
        self,
        *args: Any,
        gamma: float = 1.0,
        optimizer_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.gamma = gamma
        self.optimizer_options = dict(optimizer_options or {})

    def configure_optimizers(self):
        opt = super().configure_optimizers()
        # torch optimizers read their hyper-parameters from the param groups at every step
        for group in opt.param_groups:
            group.update(self.optimizer_options)
        if self.gamma == 1.0:
            return opt
        scheduler = torch.optim.lr_scheduler.ExponentialLR(opt, self.gamma)
        return {"optimizer": opt, "lr_scheduler": scheduler}


def classifier_module(
    model: torch.nn.Module, config: ExperimentConfig, fingerprint: str, gamma: float = 1.0
) -> TunedModule:
    """Cross-entropy classifier trained with Adam at ``config.lr``, accuracy logged each epoch,
    learning rate multiplied by ``gamma`` after every epoch."""
    return TunedModule(
        model,
        loss="cross_entropy",
        lr=config.lr,
        metrics={"accuracy": accuracy_metric},
        config=config,
        dataset_fingerprint=fingerprint,
        gamma=gamma,
    )


def train(
    module: SupervisedModule,
    train_loader: DataLoader,
    test_loader: DataLoader,
    run_dir: Path,
    epochs: int,
    device: str,
) -> list[dict[str, Any]]:
    """Train with the flowlearn trainer (TensorBoard logs and safetensors checkpoints in
    ``run_dir``); the test set is the validation set, so the curves are train vs test. A run
    directory that already holds a last checkpoint (a requeued launch) resumes from it."""
    last = Path(run_dir) / "checkpoints" / LAST_CHECKPOINT
    return fit(
        module,
        train_loader,
        test_loader,
        run_dir,
        max_epochs=epochs,
        device=device,
        progress=sys.stdout.isatty(),
        resume_from=last if last.is_file() else None,
    )


def curves(history: list[dict[str, Any]], prefix: str = "") -> dict[str, np.ndarray]:
    """Per-epoch train/test loss (and accuracy when logged) as float32 arrays."""
    out = {
        f"{prefix}train_loss": np.array([h["train_loss"] for h in history], np.float32),
        f"{prefix}test_loss": np.array([h["val_loss"] for h in history], np.float32),
    }
    if history and "train_accuracy" in history[0]["metrics"]:
        for split, key in (("train", "train_accuracy"), ("test", "val_accuracy")):
            out[f"{prefix}{split}_accuracy"] = np.array(
                [h["metrics"][key] for h in history], np.float32
            )
    return out


def classifier_report(
    model: torch.nn.Module,
    x_test: torch.Tensor,
    test: mnist.ImageSplit,
    device: str,
    prefix: str = "",
) -> tuple[dict[str, Any], dict[str, np.ndarray], np.ndarray]:
    """Test accuracy, confusion matrix and the most confident mistakes of ``model``.

    Returns (metrics, arrays, probabilities (N, 10))."""
    probs = torch.softmax(predict(model, x_test, device=device), 1).numpy()
    return (*report_from_probabilities(probs, test, prefix), probs)


def report_from_probabilities(
    probs: np.ndarray, test: mnist.ImageSplit, prefix: str = ""
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    pred = probs.argmax(1)
    truth = test.labels
    wrong = np.flatnonzero(pred != truth)
    wrong = wrong[np.argsort(-probs[wrong, pred[wrong]], kind="stable")][:N_EXAMPLES]
    acc = float((pred == truth).mean())
    metrics = {f"{prefix}test_accuracy": acc, f"{prefix}test_error": 1.0 - acc}
    arrays = {
        f"{prefix}confusion": confusion_matrix(truth, pred),
        f"{prefix}mistake_images": test.images[wrong].astype(np.uint8),
        f"{prefix}mistake_true": truth[wrong].astype(np.uint8),
        f"{prefix}mistake_pred": pred[wrong].astype(np.uint8),
        f"{prefix}mistake_confidence": probs[wrong, pred[wrong]].astype(np.float32),
    }
    return metrics, arrays


def subset_reason(config: MnistConfig, epochs: int, n_train_full: int = 60_000) -> str:
    """ "quick mode: N images, E epochs" when the run is smaller than the full one, else ""."""
    n = config.n_train or n_train_full
    if config.quick or n < n_train_full:
        mode = "quick mode" if config.quick else "subset"
        return (
            f"{mode}: {n} training images, {epochs} epochs; the talk's figure needs the full run. "
        )
    return ""


def pct(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f} %"
