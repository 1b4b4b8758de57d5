"""Training closure networks (TBNN, MLP) with flowlearn's trainer, one seed per member.

Each member learns inputs ``X`` ``(n, 2, 3, 3)`` (normalised S and R) -> anisotropy ``b``
``(n, 3, 3)`` with the mean squared error of b, Adam and a cosine schedule; the checkpoint kept
is the one of lowest validation loss (validation flows are never trained on). Members differ
only by their seed, so their spread is the noise a single training run carries: a difference
between two models counts when it is larger than it.

Saved as ``DIR/<kind>/member-K/checkpoints/best.safetensors`` (flowlearn checkpoints: weights,
feature statistics as buffers, config, dataset fingerprint; no pickle).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from flowlearn.models.turbulence import build
from flowlearn.training._checkpoint import load_checkpoint
from flowlearn.training._module import SupervisedModule
from flowlearn.training._trainer import BEST_CHECKPOINT, fit, seed_everything


@dataclass
class ClosureSettings:
    """Network kind (``tbnn``, ``mlp``, ``mlp-components``), width x depth, epochs, batch size,
    Adam's learning rate (cosine-annealed), weight decay, members, first seed."""

    kind: str = "tbnn"
    width: int = 64
    depth: int = 4
    epochs: int = 200
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    members: int = 3
    seed: int = 0
    config: dict[str, Any] = field(default_factory=dict)


class ClosureEnsemble:
    """Members of one kind; ``predict(X)`` is their mean b, ``predict_members(X)`` each one's."""

    def __init__(self, members: list[nn.Module], kind: str) -> None:
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members, self.kind = members, kind

    @torch.no_grad()
    def predict_members(self, X: np.ndarray, batch: int = 65_536) -> np.ndarray:
        """b of every member ``(K, n, 3, 3)``, float64."""
        X = torch.as_tensor(np.asarray(X, dtype=np.float64))
        out = []
        for m in self.members:
            m.eval()
            out.append(torch.cat([m(X[i : i + batch]) for i in range(0, len(X), batch)]))
        return torch.stack(out).numpy()

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.predict_members(X).mean(0)

    def split(self) -> list[ClosureEnsemble]:
        """Each member as an ensemble of its own (scored one by one, as the baselines are)."""
        return [ClosureEnsemble([m], self.kind) for m in self.members]

    @torch.no_grad()
    def outside(self, X: np.ndarray) -> np.ndarray:
        """True for cells whose invariants lie outside the first member's training range (a
        TBNN's or invariant MLP's trust signal; all False for networks without one)."""
        first = self.members[0]
        if not hasattr(first, "outside"):
            return np.zeros(len(X), dtype=bool)
        return first.outside(torch.as_tensor(np.asarray(X, dtype=np.float64))).numpy()


@dataclass
class TrainedClosure:
    ensemble: ClosureEnsemble
    seconds: float
    histories: list[list[dict[str, Any]]]


def train_closure(
    X: np.ndarray,
    b: np.ndarray,
    X_val: np.ndarray,
    b_val: np.ndarray,
    settings: ClosureSettings,
    folder: str | Path,
    *,
    fingerprint: str | None = None,
    progress: bool = False,
) -> TrainedClosure:
    """Train ``settings.members`` networks of ``settings.kind`` on ``(X, b)``, validated on
    ``(X_val, b_val)``; checkpoints under ``folder/<kind>/member-K``."""
    from torch.utils.data import DataLoader, TensorDataset

    x, y = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    xv = torch.as_tensor(X_val, dtype=torch.float64)
    yv = torch.as_tensor(b_val, dtype=torch.float64)
    members, histories = [], []
    start = time.perf_counter()
    for k in range(settings.members):
        seed_everything(settings.seed + k)
        model = build(settings.kind, settings.width, settings.depth)
        model.fit_normalisation(x)
        gen = torch.Generator().manual_seed(settings.seed + k)
        loader = DataLoader(
            TensorDataset(x, y), batch_size=settings.batch_size, shuffle=True, generator=gen
        )
        val_loader = DataLoader(TensorDataset(xv, yv), batch_size=8192)
        module = SupervisedModule(
            model,
            "mse",
            lr=settings.lr,
            weight_decay=settings.weight_decay,
            schedule="cosine",
            config={**settings.config, "kind": settings.kind, "member": k},
            dataset_fingerprint=fingerprint,
        )
        where = Path(folder) / settings.kind / f"member-{k}"
        history = fit(
            module,
            loader,
            val_loader,
            where,
            max_epochs=settings.epochs,
            device="cpu",
            progress=progress,
        )
        model.load_state_dict(load_checkpoint(where / "checkpoints" / BEST_CHECKPOINT).state_dict)
        members.append(model.eval())
        histories.append(history)
    return TrainedClosure(
        ClosureEnsemble(members, settings.kind), time.perf_counter() - start, histories
    )


def load_closure(folder: str | Path, kind: str, width: int, depth: int) -> ClosureEnsemble:
    """The members of ``kind`` saved under ``folder`` (checkpoints verified); a
    FileNotFoundError names the folder when there are none."""
    root = Path(folder) / kind
    paths = sorted(root.glob(f"member-*/checkpoints/{BEST_CHECKPOINT}"))
    if not paths:
        raise FileNotFoundError(f"no {kind} closure network under {root} (member-K/checkpoints)")
    members = []
    for path in sorted(paths, key=lambda p: int(p.parent.parent.name.split("-")[1])):
        model = build(kind, width, depth)
        model.load_state_dict(load_checkpoint(path).state_dict)
        members.append(model.eval())
    return ClosureEnsemble(members, kind)
