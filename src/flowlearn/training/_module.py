"""``SupervisedModule``: any ``nn.Module`` + a loss + an optimizer, reporting train *and* val error.

One epoch, top to bottom (Lightning calls the hooks in this order):

1. ``training_step`` per batch: forward, loss, backward (Lightning); the batch loss and metrics
   are added to running sums weighted by the batch size.
2. The validation loop over the *whole* val loader (``validation_step``), summed the same way;
   ``on_validation_epoch_end`` logs ``val_loss`` and ``val_<metric>``.
3. ``on_train_epoch_end`` logs ``train_loss`` and ``train_<metric>`` and appends one row to
   :attr:`SupervisedModule.history`; the checkpoint callback runs after it, so the saved
   ``last`` checkpoint holds the history up to and including this epoch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import lightning as L
import torch
from torch import nn
from torch.nn import functional as F

from flowlearn.training._checkpoint import SECTION, json_config, make_section, tensor_normalisation

LossFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Metric = Callable[[torch.Tensor, torch.Tensor], torch.Tensor | float]

LOSSES: dict[str, LossFunction] = {
    "mse": F.mse_loss,
    "bce_logits": F.binary_cross_entropy_with_logits,
    "cross_entropy": F.cross_entropy,
}

SCHEDULES = ("constant", "cosine")
#: A good first learning rate for each optimizer (Adadelta adapts its own step: 1.0 is standard).
DEFAULT_LR: dict[str, float] = {"adam": 1e-3, "sgd": 1e-2, "adadelta": 1.0}
OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "sgd": torch.optim.SGD,
    "adadelta": torch.optim.Adadelta,
}

MODEL_PREFIX = "model."


class _Sums:
    """Batch-size-weighted running sums of the loss and metrics of one split over one epoch."""

    def __init__(self) -> None:
        self.values: dict[str, torch.Tensor] = {}
        self.count: torch.Tensor | None = None

    def add(self, values: Mapping[str, torch.Tensor], n: int) -> None:
        # Summed as float64 tensors on the batch's device: no .item() per batch (a GPU sync), and
        # no drift over many batches.
        for name, value in values.items():
            value = torch.as_tensor(value).detach().to(torch.float64)
            self.values[name] = self.values.get(name, 0.0) + value * n
        ref = next(iter(self.values.values()))
        self.count = (self.count if self.count is not None else 0.0) + torch.tensor(
            float(n), dtype=torch.float64, device=ref.device
        )

    def means(self, reduce: Callable[[torch.Tensor], torch.Tensor]) -> dict[str, float]:
        if self.count is None:
            return {}
        count = reduce(self.count)
        return {name: (reduce(total) / count).item() for name, total in self.values.items()}


def _batch_size(target: Any) -> int:
    if isinstance(target, torch.Tensor) and target.ndim > 0:
        return int(target.shape[0])
    return 1


class SupervisedModule(L.LightningModule):
    """Trains ``model`` on ``(inputs, targets)`` batches; logs train and val loss every epoch.

    Args:
        model: maps a batch of inputs ``(N, ...)`` to predictions the loss accepts.
        loss: ``"mse"`` (regression, predictions and targets of one shape), ``"bce_logits"``
            (binary classification: logits and float 0/1 targets of one shape),
            ``"cross_entropy"`` (logits ``(N, C, ...)``, integer class targets ``(N, ...)``), or a
            callable ``(pred, target) -> scalar tensor`` averaged over the batch.
        optimizer: ``"adam"`` (a good default), ``"sgd"`` (plain, no momentum) or ``"adadelta"``
            (the MNIST examples').
        lr: learning rate; None takes ``DEFAULT_LR[optimizer]`` (1e-3 Adam, 1e-2 SGD, 1.0
            Adadelta).
        weight_decay: L2 penalty coefficient (>= 0; 0 is off, 1e-4 a mild start).
        schedule: ``"constant"`` learning rate, or ``"cosine"``: annealed from ``lr`` to 0 over
            the trainer's ``max_epochs`` (stepped once per epoch; a resumed run continues it).
        metrics: ``{name: fn(pred, target) -> scalar}`` evaluated (without gradients) on every
            batch of both splits and logged as ``train_<name>`` and ``val_<name>``; e.g.
            ``{"accuracy": ...}``. Names must not be ``loss``.
        config: the run's config (dict or pydantic model), stored in every checkpoint.
        normalisation: ``{name: tensor}`` statistics the data were normalised with (e.g.
            per-channel ``mean`` and ``std``, shape ``(C,)``), stored in every checkpoint.
        dataset_fingerprint: identifies the training data in the checkpoint, or None.

    What is reported, per epoch (and kept in :attr:`history`):

    - ``train_loss``: the mean of the epoch's batch losses, each weighted by its batch size, i.e.
      the mean per-sample loss seen *during* the epoch. The weights change while it is summed
      and dropout is active, so it runs slightly above the loss of the end-of-epoch model on
      the training set; it costs no extra pass over the data.
    - ``val_loss``: the mean per-sample loss over the whole val loader, model in eval mode, at the
      end of the epoch. NaN in :attr:`history` for an epoch without validation.

    Losses and metrics must be means over the batch (as ``"mse"`` etc. are) for the weighting to
    give per-sample means.
    """

    def __init__(
        self,
        model: nn.Module,
        loss: str | LossFunction = "mse",
        optimizer: str = "adam",
        lr: float | None = None,
        weight_decay: float = 0.0,
        schedule: str = "constant",
        metrics: Mapping[str, Metric] | None = None,
        config: Any = None,
        normalisation: Mapping[str, Any] | None = None,
        dataset_fingerprint: str | None = None,
    ) -> None:
        super().__init__()
        if isinstance(loss, str):
            if loss not in LOSSES:
                raise ValueError(f"loss {loss!r} unknown; choose one of {', '.join(LOSSES)}")
            loss_name, loss_fn = loss, LOSSES[loss]
        elif callable(loss):
            loss_name, loss_fn = getattr(loss, "__name__", type(loss).__name__), loss
        else:
            raise TypeError(f"loss must be a name or a callable, got {loss!r}")
        if optimizer not in OPTIMIZERS:
            raise ValueError(
                f"optimizer {optimizer!r} unknown; choose one of {', '.join(OPTIMIZERS)}"
            )
        lr = DEFAULT_LR[optimizer] if lr is None else float(lr)
        if not (math.isfinite(lr) and lr > 0):
            raise ValueError(f"learning rate lr={lr} must be finite and > 0 (try 1e-3 with adam)")
        if not (math.isfinite(weight_decay) and weight_decay >= 0):
            raise ValueError(f"weight_decay={weight_decay} must be finite and >= 0 (0 is off)")
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule {schedule!r} unknown; choose one of {', '.join(SCHEDULES)}")
        metrics = dict(metrics or {})
        for name, fn in metrics.items():
            if not isinstance(name, str) or not name.isidentifier() or name == "loss":
                raise ValueError(f"metric name {name!r} must be an identifier other than 'loss'")
            if not callable(fn):
                raise TypeError(f"metric {name!r} must be callable, got {fn!r}")

        # The attribute name is the state_dict prefix that load_checkpoint strips (MODEL_PREFIX).
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer_name = optimizer
        self.lr = lr
        self.weight_decay = float(weight_decay)
        self.schedule = schedule
        self.metrics = metrics
        # Validated now, not at the first checkpoint after an hour of training.
        self.config = json_config(config)
        self.normalisation = tensor_normalisation(normalisation)
        self.dataset_fingerprint = dataset_fingerprint
        make_section(self.config, self.normalisation, dataset_fingerprint)

        #: One dict per finished epoch: ``{"epoch": 1-based int, "train_loss": float,
        #: "val_loss": float, "metrics": {"train_<name>": float, "val_<name>": float}}``.
        #: Saved in checkpoints and restored on resume, so it always covers the whole run.
        self.history: list[dict[str, Any]] = []
        self._train = _Sums()
        self._val = _Sums()
        self._val_means: dict[str, float] = {}
        self.save_hyperparameters(
            {
                "loss": loss_name,
                "optimizer": optimizer,
                "lr": lr,
                "weight_decay": self.weight_decay,
                "schedule": schedule,
                "metrics": sorted(metrics),
            }
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def configure_optimizers(self) -> Any:
        optimizer = OPTIMIZERS[self.optimizer_name](
            self.model.parameters(), lr=self.lr, weight_decay=self.weight_decay
        )
        if self.schedule == "constant":
            return optimizer
        epochs = max(1, int(self.trainer.max_epochs or 1))
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"},
        }

    def _step(self, batch: Any, sums: _Sums) -> torch.Tensor:
        inputs, targets = batch
        pred = self.model(inputs)
        loss = self.loss_fn(pred, targets)
        values = {"loss": loss}
        with torch.no_grad():
            for name, fn in self.metrics.items():
                values[name] = torch.as_tensor(fn(pred.detach(), targets), device=loss.device)
        sums.add(values, _batch_size(targets))
        return loss

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._step(batch, self._train)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._step(batch, self._val)

    @property
    def _distributed(self) -> bool:
        return self.trainer.world_size > 1

    def _reduce(self, total: torch.Tensor) -> torch.Tensor:
        # Sums over all processes under DDP; the identity on one device.
        return self.trainer.strategy.reduce(total, reduce_op="sum")

    def on_train_epoch_start(self) -> None:
        self._train = _Sums()
        self._val_means = {}

    def on_validation_epoch_start(self) -> None:
        self._val = _Sums()

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:  # Lightning's 2-batch dry run is no measurement
            return
        self._val_means = self._val.means(self._reduce)
        for name, value in self._val_means.items():
            # Already summed over ranks (_reduce): the same on each, so syncing changes nothing
            # but tells Lightning the epoch value is global.
            self.log(f"val_{name}", value, prog_bar=name == "loss", sync_dist=self._distributed)

    def on_train_epoch_end(self) -> None:
        train = self._train.means(self._reduce)
        for name, value in train.items():
            self.log(f"train_{name}", value, prog_bar=name == "loss", sync_dist=self._distributed)
        nan = float("nan")
        metrics = {
            f"{split}_{name}": means.get(name, nan)
            for split, means in (("train", train), ("val", self._val_means))
            for name in self.metrics
        }
        self.history.append(
            {
                "epoch": self.current_epoch + 1,
                "train_loss": train.get("loss", nan),
                "val_loss": self._val_means.get("loss", nan),
                "metrics": metrics,
            }
        )

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[SECTION] = make_section(
            self.config,
            self.normalisation,
            self.dataset_fingerprint,
            history=self.history,
            model_prefix=MODEL_PREFIX,
        )

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        section = checkpoint.get(SECTION) or {}
        self.history = [dict(row) for row in section.get("history", [])]
