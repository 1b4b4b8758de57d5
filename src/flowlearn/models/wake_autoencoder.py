"""Convolutional autoencoders of flow snapshots with a small latent space, the deep side of the
post-processing comparison: a plain one (:class:`SnapshotAutoencoder`) and Murata, Fukami &
Fukagata's mode-decomposing one (:class:`ModeDecomposingAutoencoder`, JFM 2020: one decoder per
latent, their outputs summed, so each latent has a field of its own, an "autoencoder mode").

Snapshots are ``(N, C, ny, nx)`` (u and v, or the vorticity), any size: the encoder pads them to
a multiple of ``2 ** depth`` and the decoder crops back. Encoder: ``depth`` stride-2 3x3
convolutions (channels doubling from ``width``, tanh as in Murata et al.), flattened and mapped
to ``latent`` numbers; decoder: the mirror image with transposed convolutions.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def _check(shape: tuple[int, int, int], latent: int, width: int, depth: int) -> None:
    c, ny, nx = shape
    if min(c, ny, nx) < 1:
        raise ValueError(f"snapshot shape {shape} must be (channels, ny, nx), all positive")
    if latent < 1:
        raise ValueError(f"latent = {latent}: at least 1")
    if width < 1 or depth < 1:
        raise ValueError(f"width {width} and depth {depth} must be at least 1")
    if min(ny, nx) < 2**depth // 2:
        raise ValueError(
            f"snapshots of {ny}x{nx} cells are too small for depth {depth}: lower the depth"
        )


class _Encoder(nn.Module):
    def __init__(self, shape: tuple[int, int, int], latent: int, width: int, depth: int):
        super().__init__()
        c, ny, nx = shape
        step = 2**depth
        self.padded = (math.ceil(ny / step) * step, math.ceil(nx / step) * step)
        layers: list[nn.Module] = []
        channels = c
        for k in range(depth):
            out = width * 2**k
            layers += [nn.Conv2d(channels, out, 3, stride=2, padding=1), nn.Tanh()]
            channels = out
        self.convs = nn.Sequential(*layers)
        self.code_shape = (channels, self.padded[0] // step, self.padded[1] // step)
        self.linear = nn.Linear(math.prod(self.code_shape), latent)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ny, nx = x.shape[-2:]
        x = F.pad(x, (0, self.padded[1] - nx, 0, self.padded[0] - ny))
        return self.linear(self.convs(x).flatten(1))


class _Decoder(nn.Module):
    def __init__(self, shape: tuple[int, int, int], latent: int, width: int, depth: int, code):
        super().__init__()
        self.shape = shape
        self.code_shape = code
        self.linear = nn.Linear(latent, math.prod(code))
        layers: list[nn.Module] = []
        channels = code[0]
        for k in reversed(range(depth)):
            out = shape[0] if k == 0 else width * 2 ** (k - 1)
            layers.append(nn.ConvTranspose2d(channels, out, 4, stride=2, padding=1))
            if k > 0:
                layers.append(nn.Tanh())
            channels = out
        self.convs = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = torch.tanh(self.linear(z)).view(len(z), *self.code_shape)
        return self.convs(x)[..., : self.shape[1], : self.shape[2]]


class _Autoencoder(nn.Module):
    """The shared part: the checked settings, the encoder; ``decode`` is the subclass's."""

    def __init__(self, shape: tuple[int, int, int], latent: int, width: int, depth: int) -> None:
        super().__init__()
        shape = tuple(int(s) for s in shape)
        _check(shape, latent, width, depth)
        self.shape, self.latent = shape, latent
        self.encoder = _Encoder(shape, latent, width, depth)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class SnapshotAutoencoder(_Autoencoder):
    """``(N, C, ny, nx)`` snapshots -> ``latent`` numbers -> snapshots. ``encode``, ``decode``;
    calling it reconstructs. Train it on normalised snapshots (zero mean, unit variance per
    channel)."""

    def __init__(
        self, shape: tuple[int, int, int], latent: int = 2, width: int = 16, depth: int = 4
    ) -> None:
        super().__init__(shape, latent, width, depth)
        self.decoder = _Decoder(self.shape, latent, width, depth, self.encoder.code_shape)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)


class ModeDecomposingAutoencoder(_Autoencoder):
    """Murata, Fukami & Fukagata (JFM 2020): one shared encoder, one decoder per latent; the
    reconstruction is the sum of the decoders' outputs, so :meth:`decode_modes` gives each
    latent's own field (``(N, latent, C, ny, nx)``), which the paper compares with POD modes."""

    def __init__(
        self, shape: tuple[int, int, int], latent: int = 2, width: int = 16, depth: int = 4
    ) -> None:
        super().__init__(shape, latent, width, depth)
        self.decoders = nn.ModuleList(
            _Decoder(self.shape, 1, width, depth, self.encoder.code_shape) for _ in range(latent)
        )

    def decode_modes(self, z: torch.Tensor) -> torch.Tensor:
        return torch.stack([d(z[:, k : k + 1]) for k, d in enumerate(self.decoders)], dim=1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decode_modes(z).sum(dim=1)
