"""pix2pix (Isola, Zhu, Zhou & Efros, CVPR 2017) on flow fields, and its own ablation, the same
generator trained on the L1 loss alone: equal data, epochs, batches, initial weights.

The generator maps a condition ``x (N, C_in, H, W)`` (standardised) to fields ``y (N, C_out, H,
W)`` (standardised); the loss is the L1 distance over fluid cells, plus, for pix2pix, the
non-saturating adversarial loss of a conditional PatchGAN (:class:`flowlearn.models.
super_resolution.PatchDiscriminator`) judging ``(x, y)`` pairs, weighted 1 against the L1's
``l1_weight`` (the paper's 100). Adam with beta1 0.5 for both networks, as the paper; its
learning rate 2e-4 is the default (experiments may set another, the same for both variants).
Solid cells are 0 in what the discriminator sees, real or generated: the body is given.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from flowlearn.training._checkpoint import save_weights
from flowlearn.training._trainer import seed_everything


@dataclass
class Pix2PixSettings:
    epochs: int = 30
    batch: int = 16
    lr: float = 2e-4
    l1_weight: float = 100.0
    seed: int = 0


@dataclass
class TrainedPix2Pix:
    net: nn.Module
    history: dict[str, list[float]]
    seconds: float
    discriminator: nn.Module | None = None


def _l1(pred: torch.Tensor, target: torch.Tensor, fluid: torch.Tensor) -> torch.Tensor:
    w = fluid[:, None].to(pred.dtype)
    return ((pred - target).abs() * w).sum() / (w.sum() * pred.shape[1]).clamp_min(1)


def train_pix2pix(
    generator: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    fluid: torch.Tensor,
    settings: Pix2PixSettings,
    discriminator: nn.Module | None = None,
    folder: Path | None = None,
    label: str = "pix2pix",
    say: Callable[[str], None] | None = None,
) -> TrainedPix2Pix:
    """Train a copy of ``generator`` (so that both variants start from the same weights) on
    ``(x, y)``: with ``discriminator``, pix2pix; without, the L1 loss alone. The final
    generator is saved in ``folder`` (safetensors) when given."""
    seed_everything(settings.seed)
    gen = copy.deepcopy(generator).train()
    opt_g = torch.optim.Adam(gen.parameters(), lr=settings.lr, betas=(0.5, 0.999))
    opt_d = None
    if discriminator is not None:
        discriminator.train()
        opt_d = torch.optim.Adam(discriminator.parameters(), lr=settings.lr, betas=(0.5, 0.999))
    g = torch.Generator().manual_seed(settings.seed)
    hist: dict[str, list[float]] = {"l1": [], "adv": [], "d": []}
    start = time.perf_counter()
    n = len(x)
    for epoch in range(settings.epochs):
        acc = {k: [] for k in hist}
        for idx in torch.randperm(n, generator=g).split(settings.batch):
            xb, yb, fb = x[idx], y[idx], fluid[idx]
            w = fb[:, None].to(yb.dtype)
            fake = gen(xb)
            if discriminator is not None:
                d_real = discriminator(xb, yb * w)
                d_fake = discriminator(xb, (fake * w).detach())
                loss_d = 0.5 * (
                    F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                    + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
                )
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                opt_d.step()
                d_gen = discriminator(xb, fake * w)
                adv = F.binary_cross_entropy_with_logits(d_gen, torch.ones_like(d_gen))
                acc["d"].append(float(loss_d.detach()))
                acc["adv"].append(float(adv.detach()))
            else:
                adv = torch.zeros(())
            l1 = _l1(fake, yb, fb)
            loss = settings.l1_weight * l1 + adv
            opt_g.zero_grad(set_to_none=True)
            loss.backward()
            opt_g.step()
            acc["l1"].append(float(l1.detach()))
        for k in hist:
            hist[k].append(float(np.mean(acc[k])) if acc[k] else float("nan"))
        if say is not None and (epoch + 1) % max(1, settings.epochs // 5) == 0:
            extra = (f", D {hist['d'][-1]:.3f}, adversarial {hist['adv'][-1]:.3f}"
                     if discriminator is not None else "")  # fmt: skip
            say(f"  {label}: epoch {epoch + 1}/{settings.epochs}, L1 {hist['l1'][-1]:.4f}{extra}")
    gen.eval()
    out = TrainedPix2Pix(gen, hist, time.perf_counter() - start, discriminator)
    if folder is not None:
        save_weights(Path(folder) / f"{label}.safetensors", gen)
    return out


@torch.no_grad()
def generate(net: nn.Module, x: torch.Tensor, batch: int = 32) -> torch.Tensor:
    """The generator's standardised fields for conditions ``x``, in batches."""
    return torch.cat([net(x[i : i + batch]) for i in range(0, len(x), batch)])
