"""Training the members of a flow surrogate: a deep ensemble and its baselines, on one device,
under DDP, or within a time budget.

Each member is a :class:`~flowlearn.training.surrogate.Member` (a network, its input channels
and the normaliser of the training split) trained by :func:`~flowlearn.training.fit` on
physical data with :class:`~flowlearn.data.flow_fields.NormalisedMSE`, each training sample
drawn mirrored half of the time. It lives in ``<run>/models/<name>-<k>/``; a folder that
already holds a last checkpoint (a requeued launch) resumes from it.
"""

from __future__ import annotations

import math
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch.utils.data import DataLoader, TensorDataset

from flowlearn.data.flow_dataset import FlowSamples
from flowlearn.data.flow_fields import (
    INPUT_NAMES,
    SHAPE_INPUTS,
    DivergenceMatchedMSE,
    MirroredPairs,
    NormalisedMSE,
    Normaliser,
)
from flowlearn.training._module import SupervisedModule
from flowlearn.training._trainer import LAST_CHECKPOINT, fit, seed_everything
from flowlearn.training.launch import distributed_options
from flowlearn.training.surrogate import MEMBER_DIR, Member, build_model


class Recipe(NamedTuple):
    """How a model is built and trained: its architecture (:func:`build_model`), its input
    channels and its loss ("mse": :class:`NormalisedMSE`; "divergence":
    :class:`DivergenceMatchedMSE`, weight 1)."""

    architecture: str
    inputs: tuple[str, ...]
    loss: str = "mse"


#: The models a run trains, by the name of their folder ``models/<name>-<k>``. "guo" is the
#: like-for-like baseline (the U-Net's inputs); "guo-shape" Guo et al.'s original, which reads
#: the shape alone; "unet-attn", "fno" and "unet-div" are the candidates the model comparison
#: (``flowlearn run surrogate-models``) sets beside the U-Net.
MODELS = {
    "unet": Recipe("unet", INPUT_NAMES),
    "guo": Recipe("guo", INPUT_NAMES),
    "guo-shape": Recipe("guo", SHAPE_INPUTS),
    "unet-attn": Recipe("unet-attn", INPUT_NAMES),
    "fno": Recipe("fno", INPUT_NAMES),
    "unet-div": Recipe("unet", INPUT_NAMES, "divergence"),
}
#: Added to the run's seed (plus 100 per member) before a model's weights are drawn.
SEED_OFFSET = {"unet": 0, "guo": 50, "guo-shape": 75, "unet-attn": 10, "fno": 20, "unet-div": 0}
#: Seconds kept for the evaluation and the report out of a run's time budget (at least).
EVALUATION_RESERVE_S = 60.0


@dataclass(frozen=True)
class EnsemblePlan:
    """What to train and how: the training settings of a flow-surrogate config.

    ``architecture`` is the ensemble's model (a name of :data:`MODELS`), ``ensemble`` its
    members; ``baseline`` adds Guo et al.'s CNN on the same inputs, ``baseline_shape_only`` on
    the shape alone (both only beside an ensemble that is not Guo's CNN itself). ``width`` /
    ``epochs`` are the ensemble's, ``baseline_width`` / ``baseline_epochs`` the baselines'.
    """

    grid: tuple[int, int]
    architecture: str = "unet"
    ensemble: int = 3
    baseline: bool = True
    baseline_shape_only: bool = True
    width: int = 16
    baseline_width: int = 16
    depth: int = 3
    epochs: int = 15
    baseline_epochs: int = 40
    batch_size: int = 16
    lr: float = 2e-3
    mirror: bool = True
    seed: int = 0
    precision: str = "32-true"
    devices: int = 1

    @classmethod
    def from_config(cls, config: Any) -> EnsemblePlan:
        """The plan of any config holding attributes of these names (a flow-surrogate run's)."""
        return cls(**{name: getattr(config, name) for name in cls.__dataclass_fields__})

    def members(self) -> list[tuple[str, int]]:
        """``(model name, index)`` to train: the ensemble, then the baselines."""
        plan = [(self.architecture, k) for k in range(self.ensemble)]
        if self.architecture != "guo":
            plan += [("guo", 0)] if self.baseline else []
            plan += [("guo-shape", 0)] if self.baseline_shape_only else []
        return plan

    def width_of(self, name: str) -> int:
        return self.width if name == self.architecture else self.baseline_width

    def epochs_of(self) -> dict[str, int]:
        """Epochs of each model the plan trains: the ensemble's, and the baselines'."""
        epochs = {name: self.baseline_epochs for name, _ in self.members()}
        epochs[self.architecture] = self.epochs
        return epochs


def train_member(
    plan: EnsemblePlan,
    name: str,
    k: int,
    norm: Normaliser,
    train: FlowSamples,
    val: FlowSamples,
    member_dir: Path,
    *,
    epochs: int,
    device: str,
    fingerprint: str = "",
    config: dict[str, Any] | None = None,
    say: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Train member ``k`` of model ``name`` into ``member_dir`` (resuming from its last
    checkpoint if it has one); returns its per-epoch history. ``config`` (JSON) is stored in
    its checkpoints beside the member's own ``surrogate`` section."""
    architecture, inputs, loss = MODELS[name]
    seed_everything(plan.seed + 100 * k + SEED_OFFSET[name])
    width = plan.width_of(name)
    net = build_model(architecture, plan.grid, width, plan.depth, inputs)
    member = Member(architecture, net, inputs, Normaliser(**norm.to_dict()))

    def loader(part: FlowSamples, shuffle: bool) -> DataLoader:
        x, y = torch.from_numpy(part.x), torch.from_numpy(part.y)
        gen = torch.Generator().manual_seed(plan.seed + k) if shuffle else None
        pairs = (
            MirroredPairs(x, y, seed=plan.seed + k)
            if shuffle and plan.mirror
            else TensorDataset(x, y)
        )
        return DataLoader(pairs, batch_size=plan.batch_size, shuffle=shuffle, generator=gen)

    section = {
        "architecture": architecture,
        "grid": list(plan.grid),
        "width": width,
        "depth": plan.depth,
        "inputs": list(inputs),
    }
    module = SupervisedModule(
        member,
        loss=(DivergenceMatchedMSE if loss == "divergence" else NormalisedMSE)(member.normaliser),
        lr=plan.lr,
        schedule="cosine",
        config={"surrogate": section, "experiment": config or {}},
        normalisation=norm.to_dict(),
        dataset_fingerprint=fingerprint,
    )
    last = member_dir / "checkpoints" / LAST_CHECKPOINT
    if say is not None:
        n_params = sum(p.numel() for p in net.parameters())
        say(
            f"{'resuming' if last.is_file() else 'training'} {name} member {k} "
            f"({n_params:,} weights, {epochs} epochs; inputs {', '.join(inputs)})"
        )
    start = time.perf_counter()
    history = fit(
        module,
        loader(train, True),
        loader(val, False),
        member_dir,
        resume_from=last if last.is_file() else None,
        max_epochs=epochs,
        device=device,
        progress=sys.stdout.isatty() and say is not None,
        precision=plan.precision,
        **distributed_options(plan.devices),
    )
    if say is not None:
        end = history[-1]
        say(
            f"  train loss {end['train_loss']:.4f}, val loss {end['val_loss']:.4f} "
            f"({time.perf_counter() - start:.0f} s)"
        )
    return history


def fit_epochs_to_budget(
    epochs: dict[str, int],
    plan: list[tuple[str, int]],
    epoch_seconds: Any,
    remaining_s: float,
) -> dict[str, Any]:
    """Epochs per model that fit the time left, all cut by one factor.

    ``epochs``: the epochs asked for; ``plan``: the members to train (model, index);
    ``epoch_seconds(model)``: the measured seconds of one epoch; ``remaining_s``: the run's time
    left, of which the evaluation keeps ``max(60 s, 10 %)``. Never below 1 epoch; never above
    what was asked.
    """
    per_epoch = {a: float(epoch_seconds(a)) for a in sorted({a for a, _ in plan})}
    cost = sum(per_epoch[a] * epochs[a] for a, _ in plan)
    training_s = (
        remaining_s - sum(per_epoch.values()) * 2 - max(EVALUATION_RESERVE_S, 0.1 * remaining_s)
    )
    if training_s <= 0:
        raise ValueError(
            f"time budget: {remaining_s:.0f} s are left after the data, too few to train "
            "anything: raise time_budget_minutes"
        )
    scale = min(1.0, training_s / cost) if cost > 0 else 1.0
    cut = {a: max(1, math.floor(e * scale)) for a, e in epochs.items()}
    return {"epochs": cut, "epoch_s": per_epoch, "scale": scale, "training_s": training_s}


@dataclass
class EnsembleTraining:
    """What :func:`train_ensemble` did: each member's history (``"<model>_<k>"``), the epochs
    per model, the time budget's decision (None without one) and the seconds it took."""

    histories: dict[str, list[dict[str, Any]]]
    epochs: dict[str, int]
    budget: dict[str, Any] | None = None
    seconds: float = 0.0
    #: seconds each member's training took (``"<model>_<k>"``)
    member_seconds: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def train_ensemble(
    plan: EnsemblePlan,
    norm: Normaliser,
    train: FlowSamples,
    val: FlowSamples,
    run_dir: Path,
    *,
    device: str,
    fingerprint: str = "",
    config: dict[str, Any] | None = None,
    budget_s: float | None = None,
    say: Callable[[str], None] = print,
) -> EnsembleTraining:
    """Train every member of ``plan`` into ``run_dir/models``. With ``budget_s`` (seconds left
    for training and evaluation), a 2-epoch probe of each model times an epoch and every
    model's epochs are cut by one factor to fit (:func:`fit_epochs_to_budget`)."""
    start = time.perf_counter()
    members = plan.members()
    epochs = plan.epochs_of()
    budget = None
    if budget_s is not None:

        def probe(name: str) -> float:
            """Seconds per epoch of ``name`` here: a throw-away 2-epoch fit (set-up and warm-up
            included, so the estimate errs on the long side)."""
            probe_dir = run_dir / "probe"
            t0 = time.perf_counter()
            train_member(plan, name, 0, norm, train, val, probe_dir, epochs=2, device=device)
            shutil.rmtree(probe_dir, ignore_errors=True)
            return (time.perf_counter() - t0) / 2

        budget = fit_epochs_to_budget(epochs, members, probe, budget_s)
        epochs = budget["epochs"]
        say(
            f"time budget: {budget['training_s']:.0f} s for training; seconds per epoch "
            + ", ".join(f"{a} {t:.2f}" for a, t in budget["epoch_s"].items())
            + "; epochs "
            + ", ".join(f"{a} {e}" for a, e in epochs.items())
            + (" (cut to fit)" if budget["scale"] < 1 else "")
        )
    histories: dict[str, list[dict[str, Any]]] = {}
    member_seconds: dict[str, float] = {}
    for name, k in members:
        t0 = time.perf_counter()
        histories[f"{name}_{k}"] = train_member(
            plan,
            name,
            k,
            norm,
            train,
            val,
            run_dir / MEMBER_DIR.format(architecture=name, k=k),
            epochs=epochs[name],
            device=device,
            fingerprint=fingerprint,
            config=config,
            say=say,
        )
        member_seconds[f"{name}_{k}"] = time.perf_counter() - t0
    return EnsembleTraining(histories, epochs, budget, time.perf_counter() - start, member_seconds)
