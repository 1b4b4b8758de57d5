"""The data contract of flowlearn's steady-flow surrogates: channels, units, normalisation.

One schema, used by the dataset (:mod:`flowlearn.data.flow_dataset`), the metrics, the
surrogate's members, ``flowlearn predict`` (netCDF and VTK) and the ONNX export's metadata:

- **Inputs** :data:`INPUTS`, channels ``(sdf, mask, re)`` over the channel grid ``(ny, nx)``
  (row 0 is the bottom wall, column 0 the inlet): the body's signed distance in cells (< 0
  inside), its solid mask (1 in solid cells) and the Reynolds number ``U L / nu`` (``L`` the
  body's largest bounding-box extent in cells) as a constant map. :func:`make_inputs` stacks
  them.
- **Fields** :data:`FIELDS`, channels ``(u, v, p)``: ``u / U``, ``v / U`` and
  ``(p - p_outlet) / (rho U^2)`` with ``U`` the mean inlet velocity; 0 inside the body.
- **Normalisation**: :class:`Normaliser`, an ``nn.Module`` whose buffers hold the per-channel
  statistics of the training split and the trained Reynolds range. It is part of each
  surrogate member, so a checkpoint, ``predict`` and the exported ONNX model all take physical
  inputs and return physical fields.
- **Mirrored pairs**: the channel is symmetric about its centre line, so a body mirrored
  top-bottom has the mirrored flow with ``v`` negated (:data:`MIRROR_SIGNS`,
  :class:`MirroredPairs`).
- **The split**: :func:`split_indices`, one seeded permutation into test, validation and
  training samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset


@dataclass(frozen=True)
class Channel:
    """One channel of the contract: its name, units and what it means."""

    name: str
    units: str
    long_name: str

    @property
    def attrs(self) -> dict[str, str]:
        """CF-style attributes of an xarray variable holding this channel."""
        return {"units": self.units, "long_name": self.long_name}


INPUTS = (
    Channel("sdf", "cells", "signed distance, < 0 in solid"),
    Channel("mask", "1", "solid (1) or fluid (0)"),
    Channel("re", "1", "Reynolds number U L / nu"),
)
FIELDS = (
    Channel("u", "U", "streamwise velocity / U"),
    Channel("v", "U", "cross-stream velocity / U"),
    Channel("p", "rho U^2", "(p - p_outlet) / rho U^2"),
)
INPUT_NAMES = tuple(c.name for c in INPUTS)
FIELD_NAMES = tuple(c.name for c in FIELDS)
#: Guo et al.'s original inputs: the shape alone (their data had one Reynolds number).
SHAPE_INPUTS = ("sdf", "mask")
#: Sign of each field (u, v, p) under a top-bottom mirror of the channel.
MIRROR_SIGNS = (1.0, -1.0, 1.0)


def channel(name: str) -> Channel:
    """The input or field channel called ``name``."""
    for c in (*INPUTS, *FIELDS):
        if c.name == name:
            return c
    raise KeyError(f"no channel {name!r}; inputs {INPUT_NAMES}, fields {FIELD_NAMES}")


def cell_coords(nx: int, ny: int) -> dict[str, tuple]:
    """xarray coordinates ``x``, ``y`` of the cell centres of an ``nx x ny`` grid, in cells."""
    return {
        "x": ("x", np.arange(nx) + 0.5, {"units": "cells"}),
        "y": ("y", np.arange(ny) + 0.5, {"units": "cells"}),
    }


def make_inputs(sdf: np.ndarray, mask: np.ndarray, re: np.ndarray | float) -> np.ndarray:
    """Input channels ``(N, 3, ny, nx)`` (float32) from SDFs ``(N, ny, nx)`` (or one
    ``(ny, nx)``), masks of the same shape and Reynolds numbers ``(N,)`` (or one)."""
    sdf = np.asarray(sdf, dtype=np.float32)
    mask = np.asarray(mask)
    if sdf.ndim == 2:
        sdf, mask = sdf[None], mask[None]
    if sdf.shape != mask.shape or sdf.ndim != 3:
        raise ValueError(f"sdf {sdf.shape} and mask {mask.shape} must both be (N, ny, nx)")
    re = np.broadcast_to(np.asarray(re, dtype=np.float32).reshape(-1), (len(sdf),))
    re_map = np.broadcast_to(re[:, None, None], sdf.shape)
    return np.stack([sdf, mask.astype(np.float32), re_map], axis=1)


def split_indices(
    n: int, seed: int, val_fraction: float, test_fraction: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(train, val, test)`` sample indices, each sorted: one permutation seeded by ``seed``,
    its first ``round(test_fraction n)`` (at least 1) for testing, the next ones for
    validation."""
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, round(test_fraction * n))
    n_val = max(1, round(val_fraction * n))
    return (
        np.sort(order[n_test + n_val :]),
        np.sort(order[n_test : n_test + n_val]),
        np.sort(order[:n_test]),
    )


class NormalisationError(ValueError):
    """Statistics that cannot normalise: missing, of the wrong shape, not finite, or a deviation
    that is not positive (every prediction would be infinite or NaN)."""


#: The statistics a :class:`Normaliser` holds, with their shapes.
STATISTICS = {
    "in_mean": (len(INPUTS),),
    "in_std": (len(INPUTS),),
    "out_mean": (len(FIELDS),),
    "out_std": (len(FIELDS),),
    "re_range": (2,),
}


def _col(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(1, -1, 1, 1)


class Normaliser(nn.Module):
    """Per-channel standardisation of the inputs and fields, fitted on the training split.

    Buffers (float32): ``in_mean, in_std`` (3,) of :data:`INPUTS` (the mask is left as 0/1:
    mean 0, deviation 1), ``out_mean, out_std`` (3,) of :data:`FIELDS`, and ``re_range`` (2,),
    the smallest and largest Reynolds number trained on. They travel in the state dict of any
    module that holds the normaliser.
    """

    def __init__(self, **statistics: Any) -> None:
        super().__init__()
        for name, shape in STATISTICS.items():
            value = statistics.get(name)
            tensor = torch.zeros(shape) if value is None else torch.as_tensor(value)
            self.register_buffer(name, tensor.detach().to(torch.float32).clone())
        if statistics:
            self.check()

    @classmethod
    def fit(cls, inputs: np.ndarray, targets: np.ndarray, re: np.ndarray) -> Normaliser:
        """Statistics of ``inputs (N, 3, ny, nx)``, ``targets (N, 3, ny, nx)`` and the samples'
        Reynolds numbers ``re (N,)``."""
        axes = (0, 2, 3)
        in_mean = inputs.mean(axis=axes, dtype=np.float64)
        in_std = inputs.std(axis=axes, dtype=np.float64)
        in_mean[1], in_std[1] = 0.0, 1.0
        re = np.asarray(re, dtype=np.float64)
        return cls(
            in_mean=in_mean.astype(np.float32),
            in_std=np.maximum(in_std, 1e-6).astype(np.float32),
            out_mean=targets.mean(axis=axes, dtype=np.float64).astype(np.float32),
            out_std=np.maximum(targets.std(axis=axes, dtype=np.float64), 1e-6).astype(np.float32),
            re_range=np.array([re.min(), re.max()], dtype=np.float32),
        )

    def check(self) -> Normaliser:
        """Raise :class:`NormalisationError` unless every statistic is finite and of its shape,
        and every deviation positive."""
        for name, shape in STATISTICS.items():
            value = getattr(self, name)
            if tuple(value.shape) != shape:
                raise NormalisationError(
                    f"normalisation {name} has shape {tuple(value.shape)}, expected {shape}"
                )
            if not torch.isfinite(value).all():
                raise NormalisationError(
                    f"normalisation {name} holds non-finite values: {value.tolist()}"
                )
        for name in ("in_std", "out_std"):
            if not (getattr(self, name) > 0).all():
                raise NormalisationError(
                    f"normalisation {name} = {getattr(self, name).tolist()} has a deviation <= "
                    "0: every prediction would be infinite or NaN"
                )
        return self

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        """Physical inputs ``(N, 3, ny, nx)`` -> normalised."""
        return (x - _col(self.in_mean)) / _col(self.in_std)

    def fields(self, y: torch.Tensor) -> torch.Tensor:
        """Normalised fields ``(N, 3, ny, nx)`` -> physical."""
        return y * _col(self.out_std) + _col(self.out_mean)

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        """Physical fields -> normalised (the scale the networks learn on)."""
        return (y - _col(self.out_mean)) / _col(self.out_std)

    def to_dict(self) -> dict[str, np.ndarray]:
        """The statistics as NumPy arrays (the ``normalisation`` of a checkpoint)."""
        return {name: getattr(self, name).detach().cpu().numpy() for name in STATISTICS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Normaliser:
        """Read back :meth:`to_dict`; :class:`NormalisationError` names what is wrong."""
        missing = [name for name in STATISTICS if name not in data]
        if missing:
            raise NormalisationError(f"no surrogate normalisation {missing}")
        return cls(**{name: np.asarray(data[name], dtype=np.float32) for name in STATISTICS})


class NormalisedMSE:
    """Mean squared error of physical fields measured in units of the training deviations:
    ``mean(((pred - target) / out_std)^2)``, the same loss as on normalised fields, so each
    channel weighs alike whatever its scale."""

    __name__ = "normalised_mse"

    def __init__(self, normaliser: Normaliser) -> None:
        self.normaliser = normaliser

    def __call__(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.mean(((pred - target) / _col(self.normaliser.out_std)) ** 2)


def _divergence(fields: torch.Tensor) -> torch.Tensor:
    """``du/dx + dv/dy`` of ``(N, >=2, ny, nx)`` fields on the interior cells (central
    differences, ``dx = 1``): ``(N, ny - 2, nx - 2)``."""
    u, v = fields[:, 0], fields[:, 1]
    return 0.5 * (u[:, 1:-1, 2:] - u[:, 1:-1, :-2] + v[:, 2:, 1:-1] - v[:, :-2, 1:-1])


class DivergenceMatchedMSE(NormalisedMSE):
    """:class:`NormalisedMSE` plus ``weight`` times the mean squared difference between the
    predicted and the true velocity divergence (in units of ``out_std[u]`` per cell).

    A physics-aware loss that needs no mask: in the fluid the LBM's divergence is near zero,
    so the term asks for mass conservation there; next to and inside the body it asks for the
    solver's own discrete divergence, so no-slip cells are not pushed to a wrong zero. (The
    pressure's gauge is not free in flowlearn's channel: the outlet fixes its level, so the
    plain error on ``p`` is the right one.)
    """

    __name__ = "divergence_matched_mse"

    def __init__(self, normaliser: Normaliser, weight: float = 1.0) -> None:
        super().__init__(normaliser)
        if not weight >= 0:
            raise ValueError(f"divergence weight {weight} must be >= 0")
        self.weight = weight

    def __call__(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        mse = super().__call__(pred, target)
        scale = self.normaliser.out_std[0]
        residual = (_divergence(pred) - _divergence(target)) / scale
        return mse + self.weight * torch.mean(residual**2)


class MirroredPairs(Dataset):
    """Training pairs ``(inputs, fields)``, each drawn top-bottom mirrored with probability 1/2.

    flowlearn's channel is symmetric about its centre line (parabolic inflow, two no-slip
    walls, a uniform outlet), so the steady flow around a mirrored body is the mirrored flow
    with ``v`` negated. Every such pair is as exact as the LBM sample it comes from: the
    augmentation doubles the bodies seen in training without a new simulation.

    ``x (N, C, ny, nx)`` (any input channels: mirrored in space only) and ``y (N, 3, ny, nx)``
    physical fields. ``seed`` makes the draws reproducible; ``generator`` holds their state.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, seed: int = 0) -> None:
        if len(x) != len(y) or x.ndim != 4 or y.ndim != 4 or y.shape[1] != len(MIRROR_SIGNS):
            raise ValueError(
                f"inputs {tuple(x.shape)} and targets {tuple(y.shape)} must be (N, C, ny, nx) "
                f"and (N, {len(MIRROR_SIGNS)}, ny, nx)"
            )
        self.x, self.y = x, y
        self.sign = torch.tensor(MIRROR_SIGNS, dtype=y.dtype).reshape(-1, 1, 1)
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = self.x[i], self.y[i]
        if torch.rand((), generator=self.generator) < 0.5:
            x = x.flip(-2)
            y = y.flip(-2) * self.sign
        return x, y


def mirror(fields: np.ndarray) -> np.ndarray:
    """Fields ``(..., 3, ny, nx)`` of the top-bottom mirrored body."""
    return np.flip(fields, axis=-2) * np.array(MIRROR_SIGNS).reshape(-1, 1, 1)


def select(names: Sequence[str]) -> list[int]:
    """Indices of the input channels ``names`` in :data:`INPUT_NAMES` order."""
    unknown = [n for n in names if n not in INPUT_NAMES]
    if unknown:
        raise ValueError(f"unknown input channel(s) {unknown}; choose from {INPUT_NAMES}")
    return [INPUT_NAMES.index(n) for n in names]


def prediction_dataset(fields, spread, sdf, mask, attrs: dict[str, Any]):
    """A surrogate's prediction as an xarray Dataset: ``fields`` and their ``spread`` (3, ny,
    nx) under the names and units of this contract, the speed, the ``mask`` and ``sdf`` (ny, nx)
    of the body, and ``attrs``: what ``flowlearn predict`` writes to netCDF and VTK."""
    import xarray as xr

    ny, nx = mask.shape
    dims = ("y", "x")
    data: dict[str, Any] = {}
    for k, c in enumerate(FIELDS):
        data[c.name] = (dims, fields[k], c.attrs)
    data["speed"] = (dims, np.hypot(fields[0], fields[1]), {"units": "U"})
    for k, c in enumerate(FIELDS):
        data[f"spread_{c.name}"] = (
            dims,
            spread[k],
            {"units": c.units, "long_name": f"ensemble std of {c.long_name}"},
        )
    data["mask"] = (dims, mask.astype(np.int8), channel("mask").attrs)
    data["sdf"] = (dims, sdf, channel("sdf").attrs)
    return xr.Dataset(data, coords=cell_coords(nx, ny), attrs=attrs)
