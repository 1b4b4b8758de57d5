"""Training a DCGAN (Radford et al. 2016): Adam at 2e-4 with beta1 = 0.5, the non-saturating
generator loss (maximise log D(G(z))), discriminator and generator stepped once per batch.

Each epoch ends with both networks saved (``DIR/checkpoints/last-generator.safetensors`` and
``-discriminator``, flowlearn checkpoints, no pickle) and one row of history: the mean losses,
the discriminator's mean output on real and on generated images.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from flowlearn.models.gan import Discriminator, Generator, dcgan_init
from flowlearn.training._checkpoint import save_weights
from flowlearn.training._trainer import seed_everything


@dataclass
class GanSettings:
    latent: int = 100
    width: int = 64
    epochs: int = 10
    batch_size: int = 128
    lr: float = 2e-4
    beta1: float = 0.5
    seed: int = 0
    config: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainedGan:
    generator: Generator
    discriminator: Discriminator
    history: list[dict[str, float]]
    seconds: float


def train_gan(
    images: torch.Tensor,
    settings: GanSettings,
    folder: str | Path,
    progress=None,
) -> TrainedGan:
    """Train on ``images`` ``(N, 1, 28, 28)`` in [-1, 1]; ``progress(text)`` after each epoch."""
    seed_everything(settings.seed)
    G, D = Generator(settings.latent, settings.width), Discriminator(settings.width)
    dcgan_init(G)
    dcgan_init(D)
    opt_g = torch.optim.Adam(G.parameters(), settings.lr, betas=(settings.beta1, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), settings.lr, betas=(settings.beta1, 0.999))
    gen = torch.Generator().manual_seed(settings.seed)
    history = []
    start = time.perf_counter()
    folder = Path(folder) / "checkpoints"
    for epoch in range(1, settings.epochs + 1):
        order = torch.randperm(len(images), generator=gen)
        sums = {"d_loss": 0.0, "g_loss": 0.0, "d_real": 0.0, "d_fake": 0.0}
        batches = 0
        for i in range(0, len(images) - settings.batch_size + 1, settings.batch_size):
            real = images[order[i : i + settings.batch_size]]
            z = torch.randn(len(real), settings.latent, generator=gen)
            fake = G(z)
            # discriminator: real -> 1, generated -> 0
            d_real, d_fake = D(real), D(fake.detach())
            d_loss = F.binary_cross_entropy_with_logits(
                d_real, torch.ones_like(d_real)
            ) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            # generator: the non-saturating loss, -log D(G(z))
            out = D(fake)
            g_loss = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            sums["d_loss"] += d_loss.item()
            sums["g_loss"] += g_loss.item()
            sums["d_real"] += torch.sigmoid(d_real).mean().item()
            sums["d_fake"] += torch.sigmoid(d_fake).mean().item()
            batches += 1
        row = {k: v / max(1, batches) for k, v in sums.items()} | {"epoch": epoch}
        history.append(row)
        meta = {**settings.config, "epoch": epoch}
        save_weights(folder / "last-generator.safetensors", G, meta)
        save_weights(folder / "last-discriminator.safetensors", D, meta)
        if progress:
            progress(
                f"gan: epoch {epoch}/{settings.epochs}: D loss {row['d_loss']:.3f}, G loss "
                f"{row['g_loss']:.3f}, D(real) {row['d_real']:.2f}, D(G(z)) {row['d_fake']:.2f}"
            )
    return TrainedGan(G.eval(), D.eval(), history, time.perf_counter() - start)
