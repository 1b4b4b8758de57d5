"""DCGAN (Radford, Metz & Chintala, ICLR 2016) for 28 x 28 grey images.

The paper's rules, kept: no pooling (strided convolutions in the discriminator, fractionally
strided in the generator), batch normalisation in both (not on the generator's output nor the
discriminator's input), ReLU in the generator with tanh at its output, LeakyReLU (0.2) in the
discriminator, weights drawn from N(0, 0.02). The 64 x 64 layout of the paper is scaled to
MNIST's 28 x 28: a projection of z to 7 x 7 feature maps, then two upsamplings.

Images are in [-1, 1] (tanh); ``(x + 1) / 2`` gives MNIST's [0, 1].
"""

from __future__ import annotations

import torch
from torch import nn


class Generator(nn.Module):
    """``z`` ``(N, latent)`` -> images ``(N, 1, 28, 28)`` in [-1, 1]; ``width`` feature maps
    at 14 x 14 (twice that at 7 x 7)."""

    def __init__(self, latent: int = 100, width: int = 64) -> None:
        super().__init__()
        self.latent, self.width = latent, width
        self.project = nn.Sequential(
            nn.Linear(latent, 2 * width * 7 * 7, bias=False),
            nn.BatchNorm1d(2 * width * 7 * 7),
            nn.ReLU(),
        )
        self.up = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),  # 7 -> 14
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, 2, 1),  # 14 -> 28
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.up(self.project(z).view(-1, 2 * self.width, 7, 7))


class Discriminator(nn.Module):
    """Images ``(N, 1, 28, 28)`` in [-1, 1] -> one logit each (real > 0)."""

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 4, 2, 1),  # 28 -> 14
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False),  # 14 -> 7
            nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(2 * width * 7 * 7, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)[:, 0]


def dcgan_init(module: nn.Module) -> None:
    """The paper's initialisation: every weight from N(0, 0.02); batch-norm scales N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
