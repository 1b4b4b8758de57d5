"""A trained flow surrogate: its members, how they are built, loaded and asked for fields.

The data contract (channels, units, normalisation, mirrored pairs) is
:mod:`flowlearn.data.flow_fields`. A :class:`Member` wraps one network with the
:class:`~flowlearn.data.flow_fields.Normaliser` fitted on its training split and the input
channels it reads: physical inputs in, physical fields out. Its checkpoint holds all three, so a
checkpoint alone predicts.

A :class:`FlowSurrogate` is an ensemble of K members (deep ensemble, Lakshminarayanan et al.
2017): the prediction is their mean and the per-pixel spread their standard deviation.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from torch import nn

from flowlearn.data.flow_fields import (
    INPUT_NAMES,
    SHAPE_INPUTS,
    NormalisationError,
    Normaliser,
    make_inputs,
    select,
)
from flowlearn.models.flow import FlowFNO, FlowUNet, GuoCNN
from flowlearn.safety.memory import require_memory
from flowlearn.training._checkpoint import CheckpointError, load_checkpoint

ARCHITECTURES = ("unet", "unet-attn", "fno", "guo")
#: Heads of the transformer layer at the bottleneck of a "unet-attn".
ATTENTION_HEADS = 4


def legacy_inputs(architecture: str) -> tuple[str, ...]:
    """The inputs of a checkpoint that does not name them (written before they were stored):
    the U-Net read all three channels, Guo's CNN the shape alone."""
    return SHAPE_INPUTS if architecture == "guo" else INPUT_NAMES


class MemberSpec(BaseModel):
    """The ``"surrogate"`` section of a member's checkpoint: what :func:`build_model` needs.
    Validated on load, so an edited or damaged section is refused by name, not by traceback."""

    model_config = ConfigDict(extra="forbid")

    architecture: Literal["unet", "unet-attn", "fno", "guo"]
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
        multiple = max(8, 2**self.depth) if self.architecture.startswith("unet") else 8
        if any(n < multiple or n % multiple for n in self.grid):
            raise ValueError(
                f"grid {self.grid[0]}x{self.grid[1]}: both sides must be multiples of {multiple}"
            )
        return self


class ReynoldsRangeWarning(UserWarning):
    """A prediction at a Reynolds number outside the range the surrogate was trained on."""


def build_model(
    architecture: str,
    grid: Sequence[int],
    width: int,
    depth: int = 3,
    inputs: Sequence[str] | None = None,
) -> nn.Module:
    """The network ``architecture`` for a ``grid = (nx, ny)`` channel, reading ``inputs``
    (default: all of :data:`~flowlearn.data.flow_fields.INPUT_NAMES`, Guo's CNN its original
    :data:`~flowlearn.data.flow_fields.SHAPE_INPUTS`): "unet" (shared encoder, a decoder per
    field; ``width`` base channels, ``depth`` levels), "unet-attn" (the same with a transformer
    layer at the bottleneck), "fno" (a Fourier neural operator of ``width`` hidden channels,
    ``depth + 1`` Fourier layers, a quarter of each side's modes up to 16) or "guo" (Guo et
    al.'s CNN)."""
    nx, ny = grid
    n_in = len(inputs if inputs is not None else legacy_inputs(architecture))
    if architecture in ("unet", "unet-attn"):
        heads = ATTENTION_HEADS if architecture == "unet-attn" else 0
        net: nn.Module = FlowUNet(
            in_channels=n_in, out_channels=3, base=width, depth=depth, attention=heads
        )
    elif architecture == "fno":
        modes = (min(16, max(1, ny // 4)), min(16, max(1, nx // 4)))
        return FlowFNO(in_channels=n_in, out_channels=3, width=width, layers=depth + 1, modes=modes)
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
    """One network with its normaliser and input selection: physical inputs ``(N, 3, ny, nx)``
    (:func:`~flowlearn.data.flow_fields.make_inputs`) to physical fields ``(N, 3, ny, nx)``.

    ``inputs`` names the channels the network reads (default: :func:`legacy_inputs` of its
    architecture); ``normaliser`` its statistics (default: empty, to be loaded from a state
    dict). Training on physical data with
    :class:`~flowlearn.data.flow_fields.NormalisedMSE` is training the network on normalised
    data.
    """

    def __init__(
        self,
        architecture: str,
        net: nn.Module,
        inputs: Sequence[str] | None = None,
        normaliser: Normaliser | None = None,
    ) -> None:
        super().__init__()
        self.architecture = architecture
        self.net = net
        self.normaliser = normaliser if normaliser is not None else Normaliser()
        self.inputs = tuple(inputs if inputs is not None else legacy_inputs(architecture))
        self.channels = select(self.inputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.normaliser.fields(self.net(self.normaliser.inputs(x)[:, self.channels]))


@dataclass
class Prediction:
    """Ensemble mean ``fields (N, 3, ny, nx)`` and spread (std over members, 0 for one)."""

    fields: np.ndarray
    spread: np.ndarray
    members: np.ndarray | None = None


class FlowSurrogate:
    """K trained members on one grid (each with its normaliser, fitted on the same split)."""

    def __init__(self, members: Sequence[Member], grid: Sequence[int]) -> None:
        if not members:
            raise ValueError("a surrogate needs at least one member")
        self.members = [m.eval() for m in members]
        self.grid = tuple(int(g) for g in grid)
        self.device = next(members[0].parameters()).device

    @property
    def normaliser(self) -> Normaliser:
        return self.members[0].normaliser

    @property
    def re_range(self) -> tuple[float, float]:
        """The smallest and largest Reynolds number the members were trained on."""
        lo, hi = self.normaliser.re_range.tolist()
        return float(lo), float(hi)

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
        checked, and the memory of all members is estimated, before a weight is allocated.
        Checkpoints of the previous layout (the network's weights alone, the statistics in the
        ``normalisation`` section) are wrapped the same way."""
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
        members = []
        for path, ckpt, spec in zip(paths, checkpoints, specs, strict=True):
            net = build_model(
                spec.architecture, spec.grid, spec.width, spec.depth, spec.input_names
            )
            member = Member(spec.architecture, net, spec.input_names)
            wrapped = "normaliser.in_mean" in ckpt.state_dict
            try:
                if wrapped:
                    member.load_state_dict(ckpt.state_dict)
                else:  # the previous layout: the statistics come from the section
                    member.normaliser = Normaliser.from_dict(ckpt.normalisation)
                    net.load_state_dict(ckpt.state_dict)
                member.normaliser.check()
            except NormalisationError as exc:
                raise CheckpointError(f"{path}: {exc}") from None
            except RuntimeError as exc:
                raise CheckpointError(f"{path}: weights do not fit the network: {exc}") from None
            members.append(member)
        return cls(members, specs[0].grid)

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
        lo, hi = self.re_range
        re_all = np.broadcast_to(np.asarray(re, dtype=np.float32).reshape(-1), (len(x),))
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
            xb = torch.from_numpy(x[s : s + batch_size]).to(self.device)
            outs.append(torch.stack([m(xb) for m in self.members]).cpu().numpy())
        per_member = np.concatenate(outs, axis=1)  # (K, N, 3, ny, nx)
        return Prediction(
            per_member.mean(axis=0),
            per_member.std(axis=0),
            per_member if keep_members else None,
        )

    def refine(
        self,
        shape,
        re: float,
        *,
        start: str = "pressure",
        spec=None,
        callback=None,
    ):
        """The exact mode: the prediction for ``shape`` (a :class:`~flowlearn.physics.geometry.
        Shape` in cells of this surrogate's grid) at ``re`` as the start of the dataset's LBM,
        run to its steady tolerance. ``spec``: the dataset settings (lattice velocity, steady
        tolerance; default those of flowlearn's datasets on this grid). Returns a
        :class:`~flowlearn.data.flow_dataset.Refined` (converged fields, steps, a fallback
        to the uniform start if the warm start diverged). ``ValueError`` when ``spec``'s grid
        is not this surrogate's, ``ShapeError`` / ``ValueError`` for a body the solver
        refuses."""
        from flowlearn.data.flow_dataset import FlowDatasetSpec
        from flowlearn.data.flow_dataset import refine as run_refined

        nx, ny = self.grid
        spec = spec or FlowDatasetSpec(grid=(nx, ny), n=1, re=(float(re), float(re)))
        if tuple(spec.grid) != (nx, ny):
            raise ValueError(
                f"the solver's grid {spec.grid[0]}x{spec.grid[1]} differs from the surrogate's "
                f"{nx}x{ny}: refine on the grid it was trained on"
            )
        sdf = shape.sample(nx, ny, 1.0).astype(np.float32)
        guess = self.predict(sdf, sdf < 0, float(re)).fields[0]
        return run_refined(spec, shape, float(re), guess, start=start, callback=callback)


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


def export_description(member: Member, grid: Sequence[int], normalised: bool) -> dict:
    """What an exported member computes, for the JSON beside an ONNX file: its input and
    output channels (names, units, meaning, order), its grid, the trained Reynolds range and
    the normalisation statistics (inside the model unless ``normalised``: then the caller
    applies them)."""
    from flowlearn.data.flow_fields import FIELDS, INPUTS

    nx, ny = (int(g) for g in grid)
    stats = {k: [float(v) for v in a] for k, a in member.normaliser.to_dict().items()}
    inputs = [c for c in INPUTS if c.name in member.inputs] if normalised else list(INPUTS)
    described = {
        "grid": [nx, ny],
        "re_range": stats["re_range"],
        "normalised": normalised,
        "input": {
            "name": "x",
            "shape": ["batch", len(inputs), ny, nx],
            "channels": [c.name for c in inputs],
            "units": [c.units for c in inputs],
            "meaning": {c.name: c.long_name for c in inputs},
            "in_mean": [stats["in_mean"][INPUT_NAMES.index(c.name)] for c in inputs],
            "in_std": [stats["in_std"][INPUT_NAMES.index(c.name)] for c in inputs],
            "layout": "row 0 is the bottom wall, column 0 the inlet; re is a constant map of "
            "U L / nu, L the body's largest bounding-box extent in cells",
        },
        "output": {
            "name": "fields",
            "shape": ["batch", len(FIELDS), ny, nx],
            "channels": [c.name for c in FIELDS],
            "units": [c.units for c in FIELDS],
            "meaning": {c.name: c.long_name for c in FIELDS},
            "out_mean": stats["out_mean"],
            "out_std": stats["out_std"],
        },
    }
    if normalised:
        described["normalise"] = "x_norm[:, c] = (x[:, c] - in_mean[c]) / in_std[c]"
        described["denormalise"] = "fields[:, c] = y[:, c] * out_std[c] + out_mean[c]"
    else:
        described["normalisation"] = "inside the model: physical inputs in, physical fields out"
    return described
