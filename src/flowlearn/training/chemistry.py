"""Training an ensemble of chemistry networks with flowlearn's trainer, and loading it back.

Each member is a :class:`~flowlearn.models.chemistry.ChemistryNetwork` trained from its own
seed on the same pairs (state, state one step later). The ensemble advances a state with the
members' mean increment; the members' spread (the standard deviation of their normalised
increments, averaged over the outputs) is a trust signal: large where the members disagree,
i.e. where the data did not pin the map down.

Members are saved as ``DIR/member-K/checkpoints/best.safetensors`` (flowlearn checkpoints:
weights, transform statistics as buffers, config, dataset fingerprint, version; no pickle).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from flowlearn.models.chemistry import ChemistryNetwork
from flowlearn.training._checkpoint import load_checkpoint
from flowlearn.training._module import SupervisedModule
from flowlearn.training._trainer import BEST_CHECKPOINT, fit, seed_everything


class ChemistryEnsemble(nn.Module):
    """``K`` chemistry networks advancing a state together (see the module docstring)."""

    def __init__(self, members: list[ChemistryNetwork]) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member")
        self.members = nn.ModuleList(members)

    @property
    def first(self) -> ChemistryNetwork:
        return self.members[0]  # type: ignore[return-value]

    @torch.no_grad()
    def increments(self, state: torch.Tensor, size: int | None = None):
        """Mean physical increments of the first ``size`` members (all by default) and their
        spread ``(B,)`` (0 for a single member)."""
        members = list(self.members)[: size or len(self.members)]
        z = members[0].features(state)
        outs = torch.stack([m.net(z) for m in members])  # same transforms for every member
        spread = outs.std(0).mean(1) if len(members) > 1 else torch.zeros(len(state))
        return members[0].decode(outs.mean(0)), spread

    @torch.no_grad()
    def step(
        self, state: torch.Tensor, conserve: bool = False, size: int | None = None
    ) -> torch.Tensor:
        inc, _ = self.increments(state, size)
        return self.first.apply(state, inc, conserve)


@dataclass
class TrainSettings:
    """Hyper-parameters of the members: width / depth of the MLP, epochs, batch size, Adam's
    learning rate (cosine-annealed), members, seed."""

    width: int = 128
    depth: int = 3
    epochs: int = 60
    batch_size: int = 256
    lr: float = 2e-3
    members: int = 3
    seed: int = 0
    config: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainedEnsemble:
    ensemble: ChemistryEnsemble
    seconds: float
    histories: list[list[dict[str, Any]]]


def train_ensemble(
    states: np.ndarray,
    successors: np.ndarray,
    val_states: np.ndarray,
    val_successors: np.ndarray,
    elements: np.ndarray,
    thermo: Any,
    settings: TrainSettings,
    folder: str | Path,
    *,
    fingerprint: str | None = None,
    progress: bool = False,
) -> TrainedEnsemble:
    """Train ``settings.members`` networks on pairs ``states (N, 2 + S)`` ``[T, p, Y]`` ->
    ``successors (N, 1 + S)`` ``[T, Y]``, validated on the val pairs; checkpoints under
    ``folder/member-K``. The transform statistics come from the training pairs; ``elements`` and
    ``thermo`` (:func:`~flowlearn.physics.chemistry.element_matrix`,
    :func:`~flowlearn.physics.chemistry.nasa7`) let the networks conserve them."""
    from torch.utils.data import DataLoader, TensorDataset

    n_species = states.shape[1] - 2
    s, n = torch.as_tensor(states), torch.as_tensor(successors)
    vs, vn = torch.as_tensor(val_states), torch.as_tensor(val_successors)
    members, histories = [], []
    start = time.perf_counter()
    for k in range(settings.members):
        seed_everything(settings.seed + k)
        model = ChemistryNetwork(n_species, settings.width, settings.depth, elements, thermo)
        model.fit_normalisation(s, n)
        train = TensorDataset(model.features(s), model.targets(s, n))
        val = TensorDataset(model.features(vs), model.targets(vs, vn))
        gen = torch.Generator().manual_seed(settings.seed + k)
        loader = DataLoader(train, batch_size=settings.batch_size, shuffle=True, generator=gen)
        val_loader = DataLoader(val, batch_size=4096)
        module = SupervisedModule(
            model,
            "mse",
            lr=settings.lr,
            schedule="cosine",
            config=settings.config,
            dataset_fingerprint=fingerprint,
        )
        history = fit(
            module,
            loader,
            val_loader,
            Path(folder) / f"member-{k}",
            max_epochs=settings.epochs,
            device="cpu",
            progress=progress,
        )
        best = Path(folder) / f"member-{k}" / "checkpoints" / BEST_CHECKPOINT
        model.load_state_dict(load_checkpoint(best).state_dict)
        members.append(model.eval())
        histories.append(history)
    return TrainedEnsemble(ChemistryEnsemble(members), time.perf_counter() - start, histories)


def load_ensemble(
    folder: str | Path, n_species: int, width: int, depth: int, elements: np.ndarray, thermo: Any
) -> ChemistryEnsemble:
    """The ensemble saved under ``folder`` (``member-0``, ``member-1``, ...), checkpoints
    verified; a FileNotFoundError names the folder when there is none."""
    folder = Path(folder)
    paths = sorted(folder.glob(f"member-*/checkpoints/{BEST_CHECKPOINT}"))
    if not paths:
        raise FileNotFoundError(f"no chemistry network under {folder} (member-K/checkpoints)")
    members = []
    for path in sorted(paths, key=lambda p: int(p.parent.parent.name.split("-")[1])):
        model = ChemistryNetwork(n_species, width, depth, elements, thermo)
        model.load_state_dict(load_checkpoint(path).state_dict)
        members.append(model.eval())
    return ChemistryEnsemble(members)
