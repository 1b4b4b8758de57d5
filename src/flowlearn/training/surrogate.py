"""A trained flow surrogate: its inputs, normalisation, members and predictions.

Inputs are three channels over the channel grid ``(ny, nx)``: the body's signed distance
(cells), its solid mask and the Reynolds number as a constant map; outputs are ``u / U``,
``v / U`` and ``(p - p_out) / (rho U^2)`` (see :mod:`flowlearn.data.flow_dataset`). Every
channel is standardised with statistics fitted on the training split only, and those are saved
in each member's checkpoint, so a checkpoint alone predicts.

A :class:`FlowSurrogate` is an ensemble of K members (deep ensemble, Lakshminarayanan et al.
2017): the prediction is their mean and the per-pixel spread their standard deviation.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from torch import nn
from torch.utils.data import Dataset

from flowlearn.models.flow import FlowUNet, GuoCNN
from flowlearn.safety.memory import require_memory
from flowlearn.training._checkpoint import CheckpointError, load_checkpoint

ARCHITECTURES = ("unet", "guo")
#: The input channels a member may read, in the order of :func:`make_inputs`.
INPUT_CHANNELS = ("sdf", "mask", "re")
#: Guo et al.'s original inputs: the shape alone (their data had one Reynolds number).
SHAPE_INPUTS = ("sdf", "mask")


def legacy_inputs(architecture: str) -> tuple[str, ...]:
    """The inputs of a checkpoint that does not name them (written before they were stored):
    the U-Net read all three channels, Guo's CNN the shape alone."""
    return SHAPE_INPUTS if architecture == "guo" else INPUT_CHANNELS


class MemberSpec(BaseModel):
    """The ``"surrogate"`` section of a member's checkpoint: what :func:`build_model` needs.
    Validated on load, so an edited or damaged section is refused by name, not by traceback."""

    model_config = ConfigDict(extra="forbid")

    architecture: Literal["unet", "guo"]
    grid: tuple[int, int] = Field(description="(nx, ny) cells")
    width: int = Field(ge=1, description="U-Net base channels or Guo CNN width")
    depth: int = Field(ge=1, le=8, description="U-Net levels")
    inputs: tuple[Literal["sdf", "mask", "re"], ...] | None = Field(
        None, description="input channels read, in order; None: written before they were named"
    )

    @property
    def input_names(self) -> tuple[str, ...]:
        return self.inputs or legacy_inputs(self.architecture)

    @model_validator(mode="after")
    def _fits(self) -> MemberSpec:
        multiple = max(8, 2**self.depth) if self.architecture == "unet" else 8
        if any(n < multiple or n % multiple for n in self.grid):
            raise ValueError(
                f"grid {self.grid[0]}x{self.grid[1]}: both sides must be multiples of {multiple}"
            )
        return self


class ReynoldsRangeWarning(UserWarning):
    """A prediction at a Reynolds number outside the range the surrogate was trained on."""


def make_inputs(sdf: np.ndarray, mask: np.ndarray, re: np.ndarray | float) -> np.ndarray:
    """Raw input channels ``(N, 3, ny, nx)`` from SDFs ``(N, ny, nx)`` (or one ``(ny, nx)``),
    masks of the same shape and Reynolds numbers ``(N,)`` (or one)."""
    sdf = np.asarray(sdf, dtype=np.float32)
    mask = np.asarray(mask)
    if sdf.ndim == 2:
        sdf, mask = sdf[None], mask[None]
    if sdf.shape != mask.shape or sdf.ndim != 3:
        raise ValueError(f"sdf {sdf.shape} and mask {mask.shape} must both be (N, ny, nx)")
    re = np.broadcast_to(np.asarray(re, dtype=np.float32).reshape(-1), (len(sdf),))
    re_map = np.broadcast_to(re[:, None, None], sdf.shape)
    return np.stack([sdf, mask.astype(np.float32), re_map], axis=1)


@dataclass
class Normaliser:
    """Per-channel standardisation of inputs and outputs (statistics of the training split)."""

    in_mean: np.ndarray
    in_std: np.ndarray
    out_mean: np.ndarray
    out_std: np.ndarray
    re_range: np.ndarray

    @classmethod
    def fit(cls, inputs: np.ndarray, targets: np.ndarray) -> Normaliser:
        """Statistics of raw ``inputs (N, 3, ny, nx)`` and ``targets (N, 3, ny, nx)``; the mask
        channel is left as 0/1."""
        axes = (0, 2, 3)
        in_mean = inputs.mean(axis=axes, dtype=np.float64)
        in_std = inputs.std(axis=axes, dtype=np.float64)
        in_mean[1], in_std[1] = 0.0, 1.0
        out_mean = targets.mean(axis=axes, dtype=np.float64)
        out_std = targets.std(axis=axes, dtype=np.float64)
        re = inputs[:, 2, 0, 0]
        return cls(
            in_mean.astype(np.float32),
            np.maximum(in_std, 1e-6).astype(np.float32),
            out_mean.astype(np.float32),
            np.maximum(out_std, 1e-6).astype(np.float32),
            np.array([re.min(), re.max()], dtype=np.float32),
        )

    def inputs(self, x: np.ndarray | torch.Tensor) -> torch.Tensor:
        return (torch.as_tensor(x) - _col(self.in_mean)) / _col(self.in_std)

    def targets(self, y: np.ndarray | torch.Tensor) -> torch.Tensor:
        return (torch.as_tensor(y) - _col(self.out_mean)) / _col(self.out_std)

    def outputs(self, y: torch.Tensor) -> torch.Tensor:
        """Back to physical (dimensionless) fields."""
        return y * _col(self.out_std).to(y) + _col(self.out_mean).to(y)

    def to_dict(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Normaliser:
        """Read back :meth:`to_dict`'s statistics; a :class:`CheckpointError` if one is
        missing, of the wrong shape, not finite or (a deviation) not positive."""
        try:
            norm = cls(**{k: np.asarray(data[k], dtype=np.float32)
                          for k in cls.__dataclass_fields__})  # fmt: skip
        except KeyError as exc:
            raise CheckpointError(f"checkpoint has no surrogate normalisation {exc}") from None
        shapes = {"re_range": (2,)}
        for name, value in norm.to_dict().items():
            if value.shape != shapes.get(name, (len(MIRROR_SIGNS),)):
                raise CheckpointError(
                    f"normalisation {name} has shape {value.shape}, expected "
                    f"{shapes.get(name, (len(MIRROR_SIGNS),))}"
                )
            if not np.isfinite(value).all():
                raise CheckpointError(f"normalisation {name} holds non-finite values: {value}")
        for name in ("in_std", "out_std"):
            if not (getattr(norm, name) > 0).all():
                raise CheckpointError(
                    f"normalisation {name} = {getattr(norm, name)} has a deviation <= 0: "
                    "every prediction would be infinite or NaN"
                )
        return norm


#: Sign of each output channel (u, v, p) under a top-bottom mirror of the channel.
MIRROR_SIGNS = np.array([1.0, -1.0, 1.0], dtype=np.float32)


class MirroredPairs(Dataset):
    """Normalised training pairs, each drawn top-bottom mirrored with probability 1/2.

    flowlearn's channel is symmetric about its centre line (parabolic inflow, two no-slip
    walls, a uniform outlet), so the steady flow around a mirrored body is the mirrored flow
    with ``v`` negated. Every such pair is as exact as the LBM sample it comes from: the
    augmentation doubles the bodies seen in training without a new simulation.

    ``x (N, C, ny, nx)`` and ``y (N, 3, ny, nx)`` are normalised with ``norm`` (the input
    channels are mirrored in space only; the targets' affine map is undone, signed and redone
    exactly). ``seed`` makes the draws reproducible.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, norm: Normaliser, seed: int = 0) -> None:
        if len(x) != len(y) or x.ndim != 4 or y.ndim != 4 or y.shape[1] != len(MIRROR_SIGNS):
            raise ValueError(
                f"inputs {tuple(x.shape)} and targets {tuple(y.shape)} must be (N, C, ny, nx) "
                f"and (N, {len(MIRROR_SIGNS)}, ny, nx)"
            )
        self.x, self.y = x, y
        signs = MIRROR_SIGNS.astype(np.float64)
        mean, std = norm.out_mean.astype(np.float64), norm.out_std.astype(np.float64)
        # normalised target t = (f - m) / s; mirrored f' = S f  =>  t' = S t + (S m - m) / s
        self.sign = _col(signs)[0]
        self.shift = _col((signs * mean - mean) / std)[0]
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = self.x[i], self.y[i]
        if torch.rand((), generator=self.generator) < 0.5:
            x = x.flip(-2)
            y = y.flip(-2) * self.sign + self.shift
        return x, y


def _col(a: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float32)).reshape(1, -1, 1, 1)


def build_model(
    architecture: str,
    grid: Sequence[int],
    width: int,
    depth: int = 3,
    inputs: Sequence[str] | None = None,
) -> nn.Module:
    """The network ``architecture`` ("unet": shared encoder, a decoder per field; "guo": Guo et
    al.'s CNN) for a ``grid = (nx, ny)`` channel, reading ``inputs`` (default: the U-Net all of
    :data:`INPUT_CHANNELS`, Guo's CNN its original :data:`SHAPE_INPUTS`)."""
    nx, ny = grid
    n_in = len(inputs if inputs is not None else legacy_inputs(architecture))
    if architecture == "unet":
        net: nn.Module = FlowUNet(in_channels=n_in, out_channels=3, base=width, depth=depth)
    elif architecture == "guo":
        net = GuoCNN(in_channels=n_in, out_channels=3, width=width, grid=(ny, nx))
    else:
        raise ValueError(
            f"architecture {architecture!r} unknown; choose {', '.join(ARCHITECTURES)}"
        )
    # Channels-last weights make every convolution run channels-last (oneDNN's fast path on a
    # CPU). Measured on 2 cores at 128x64 (U-Net 16/3): a training step 1.4x faster, inference
    # 1.9x; the outputs agree to round-off and checkpoints are stored contiguous as before.
    return net.to(memory_format=torch.channels_last)


def model_memory(
    architecture: str,
    grid: Sequence[int],
    width: int,
    depth: int = 3,
    batch: int = 1,
    training: bool = False,
    inputs: Sequence[str] | None = None,
) -> int:
    """Bytes a network of :func:`build_model` needs (float32): its weights, and the outputs
    of every layer for a batch of ``batch`` (an upper bound of inference's peak). Training
    adds gradients and Adam's two moments (4x the weights) and keeps every activation for the
    backward pass, whose gradients double them. Built on PyTorch's meta device: nothing is
    allocated to count."""
    nx, ny = grid
    inputs = tuple(inputs if inputs is not None else legacy_inputs(architecture))
    with torch.device("meta"):
        net = build_model(architecture, grid, width, depth, inputs)
        x = torch.empty(batch, len(inputs), ny, nx)
    weights = sum(p.numel() for p in net.parameters())
    activations = [x.numel()]

    def count(module, inputs, output):
        if not list(module.children()) and isinstance(output, torch.Tensor):
            activations.append(output.numel())

    hooks = [m.register_forward_hook(count) for m in net.modules()]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for h in hooks:
            h.remove()
    if training:
        return 4 * (4 * weights + 2 * sum(activations))
    return 4 * (weights + sum(activations))


class Member(nn.Module):
    """One network with its input selection: ``inputs`` names the channels of
    :data:`INPUT_CHANNELS` it reads (default: :func:`legacy_inputs` of its architecture)."""

    def __init__(
        self, architecture: str, net: nn.Module, inputs: Sequence[str] | None = None
    ) -> None:
        super().__init__()
        self.architecture = architecture
        self.net = net
        self.inputs = tuple(inputs if inputs is not None else legacy_inputs(architecture))
        self.channels = [INPUT_CHANNELS.index(name) for name in self.inputs]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x[:, self.channels])


@dataclass
class Prediction:
    """Ensemble mean ``fields (N, 3, ny, nx)`` and spread (std over members, 0 for one)."""

    fields: np.ndarray
    spread: np.ndarray
    members: np.ndarray | None = None


class FlowSurrogate:
    """K trained members sharing one normaliser and grid."""

    def __init__(
        self, members: Sequence[Member], normaliser: Normaliser, grid: Sequence[int]
    ) -> None:
        if not members:
            raise ValueError("a surrogate needs at least one member")
        self.members = [m.eval() for m in members]
        self.normaliser = normaliser
        self.grid = tuple(int(g) for g in grid)
        self.device = next(members[0].parameters()).device

    def to(self, device: str | torch.device) -> FlowSurrogate:
        """Move every member to ``device`` ("cpu", "cuda", ...); predictions still return
        NumPy arrays."""
        self.device = torch.device(device)
        for m in self.members:
            m.to(self.device)
        return self

    @classmethod
    def load(
        cls, paths: Sequence[str | Path], *, allow_version_mismatch: bool = False
    ) -> FlowSurrogate:
        """Members from checkpoints written by the flow-surrogate experiment. Each file's
        digest, its ``"surrogate"`` section (:class:`MemberSpec`) and its normalisation are
        checked, and the memory of all members is estimated, before a weight is allocated."""
        checkpoints, specs = [], []
        for path in paths:
            ckpt = load_checkpoint(path, allow_version_mismatch=allow_version_mismatch)
            section = ckpt.config.get("surrogate")
            if not section:
                raise CheckpointError(f"{path}: not a flow-surrogate checkpoint (no 'surrogate')")
            try:
                spec = MemberSpec.model_validate(section)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(map(str, e['loc'])) or 'surrogate'}: {e['msg']}"
                    for e in exc.errors()
                )
                raise CheckpointError(f"{path}: bad 'surrogate' section: {problems}") from None
            if specs and spec.grid != specs[0].grid:
                raise CheckpointError(
                    f"{path}: grid {list(spec.grid)} differs from {list(specs[0].grid)}"
                )
            checkpoints.append(ckpt)
            specs.append(spec)
        need = sum(
            model_memory(s.architecture, s.grid, s.width, s.depth, inputs=s.input_names)
            for s in specs
        )
        widths = ", ".join(str(s.width) for s in specs)
        require_memory(
            need,
            f"{len(specs)} surrogate member(s) ({specs[0].grid[0]}x{specs[0].grid[1]}, width "
            f"{widths})",
            "load fewer members, or check the checkpoints' 'surrogate' sections",
        )
        members, norm = [], None
        for path, ckpt, spec in zip(paths, checkpoints, specs, strict=True):
            net = build_model(
                spec.architecture, spec.grid, spec.width, spec.depth, spec.input_names
            )
            try:
                net.load_state_dict(ckpt.state_dict)
            except RuntimeError as exc:
                raise CheckpointError(f"{path}: weights do not fit the network: {exc}") from None
            members.append(Member(spec.architecture, net, spec.input_names))
            try:
                norm = Normaliser.from_dict(ckpt.normalisation)
            except CheckpointError as exc:
                raise CheckpointError(f"{path}: {exc}") from None
        return cls(members, norm, specs[0].grid)

    @torch.no_grad()
    def predict(
        self,
        sdf: np.ndarray,
        mask: np.ndarray,
        re: np.ndarray | float,
        *,
        batch_size: int = 64,
        keep_members: bool = False,
    ) -> Prediction:
        """Fields for bodies given by ``sdf`` / ``mask`` ``(N, ny, nx)`` at Reynolds ``re``.

        A Reynolds number outside the training range is predicted but warned about
        (:class:`ReynoldsRangeWarning`), with the range.
        """
        x = make_inputs(sdf, mask, re)
        nx, ny = self.grid
        if x.shape[-2:] != (ny, nx):
            raise ValueError(
                f"inputs are {x.shape[-1]}x{x.shape[-2]} cells; this surrogate was trained on "
                f"{nx}x{ny}"
            )
        lo, hi = (float(r) for r in self.normaliser.re_range)
        re_all = x[:, 2, 0, 0]
        outside = (re_all < lo - 1e-6) | (re_all > hi + 1e-6)
        if outside.any():
            warnings.warn(
                f"Reynolds number {', '.join(f'{r:g}' for r in np.unique(re_all[outside])[:5])} "
                f"outside the trained range {lo:g}-{hi:g}: the prediction is an extrapolation",
                ReynoldsRangeWarning,
                stacklevel=2,
            )
        outs = []
        for s in range(0, len(x), batch_size):
            xb = self.normaliser.inputs(x[s : s + batch_size]).to(self.device)
            outs.append(
                torch.stack([self.normaliser.outputs(m(xb)) for m in self.members]).cpu().numpy()
            )
        per_member = np.concatenate(outs, axis=1)  # (K, N, 3, ny, nx)
        return Prediction(
            per_member.mean(axis=0),
            per_member.std(axis=0),
            per_member if keep_members else None,
        )


#: Where the flow-surrogate experiment puts member ``k`` of a model in its run dir: ``unet``,
#: ``guo`` (Guo's CNN on the U-Net's inputs) or ``guo-shape`` (on the shape alone).
MEMBER_DIR = "models/{architecture}-{k}"


def member_checkpoints(run_dir: str | Path, architecture: str = "unet") -> list[Path]:
    """The best checkpoints of a flow-surrogate run's members, in order; an error that says
    what is missing if the run has none. Folders that are not members (``unet-0-old``, a
    copy, a note) are left out."""
    run_dir = Path(run_dir)
    pattern = re.compile(rf"{re.escape(architecture)}-(\d+)")
    found = sorted(
        (
            (int(m.group(1)), folder / "checkpoints" / "best.safetensors")
            for folder in (run_dir / Path(MEMBER_DIR).parent).glob(f"{architecture}-*")
            if (m := pattern.fullmatch(folder.name))
            and (folder / "checkpoints" / "best.safetensors").is_file()
        ),
    )
    if not found:
        raise FileNotFoundError(
            f"{run_dir} holds no {architecture} surrogate checkpoint "
            f"({MEMBER_DIR.format(architecture=architecture, k='K')}/checkpoints/"
            "best.safetensors): "
            "give the run directory of `flowlearn run flow-surrogate`"
        )
    return [path for _, path in found]
