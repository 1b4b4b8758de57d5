"""Training super-resolution networks on flow fields: MSE on the fluid cells of random crops,
and SRGAN's adversarial fine-tuning (Ledig et al. 2017) of a network trained that way.

Data (:class:`SRData`): fine fields ``(N, 3, H, W)`` (u / U, v / U, p / rho U^2), coarse fields
``(N, 3, H / s, W / s)`` (from a coarse simulation or averaged down), the fine mask (True =
solid) and the fine signed distance to the body in fine cells. Fields are standardised per
channel with the fine training fields' statistics (:class:`FieldScaler`); the geometry enters
as ``tanh(sdf / 2 s)``: the body's shape at the coarse cell's scale. Crops keep whole coarse
cells, and are mirrored in y (v changes sign) half the time: the channel is symmetric.

The network's output is de-standardised and its solid cells set to 0 (:func:`predict`): the
body is known exactly, so no method is charged for it.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from flowlearn.training._checkpoint import save_weights
from flowlearn.training._trainer import seed_everything


@dataclass
class FieldScaler:
    """Per-channel mean and standard deviation of the fine training fields (fluid cells)."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, fine: np.ndarray, mask: np.ndarray) -> FieldScaler:
        fluid = ~np.asarray(mask, bool)
        vals = np.moveaxis(np.asarray(fine, np.float64), 1, 0)[:, fluid]
        return cls(vals.mean(1), np.maximum(vals.std(1), 1e-6))

    def to(self, x: torch.Tensor) -> torch.Tensor:
        m = torch.as_tensor(self.mean, dtype=x.dtype).view(1, -1, 1, 1)
        s = torch.as_tensor(self.std, dtype=x.dtype).view(1, -1, 1, 1)
        return (x - m) / s

    def back(self, x: torch.Tensor) -> torch.Tensor:
        m = torch.as_tensor(self.mean, dtype=x.dtype).view(1, -1, 1, 1)
        s = torch.as_tensor(self.std, dtype=x.dtype).view(1, -1, 1, 1)
        return x * s + m


def geometry(sdf: np.ndarray, scale: int) -> torch.Tensor:
    """The geometry channel ``(N, 1, H, W)``: ``tanh(sdf / 2 s)``, sdf in fine cells."""
    sdf = torch.tensor(np.asarray(sdf, dtype=np.float32))  # a copy: inputs may be read-only views
    return torch.tanh(sdf / (2 * scale))[:, None]


@dataclass
class SRData:
    """Standardised tensors of one training set (see the module's docstring)."""

    coarse: torch.Tensor
    fine: torch.Tensor
    geo: torch.Tensor
    fluid: torch.Tensor
    scale: int
    #: the standardised v's offset ``mean / std``, which mirroring in y doubles
    v_shift: float = 0.0

    @classmethod
    def make(cls, coarse, fine, mask, sdf, scale: int, scaler: FieldScaler) -> SRData:
        coarse, fine = np.asarray(coarse), np.asarray(fine)
        n, c, big_h, big_w = fine.shape
        if coarse.shape != (n, c, big_h // scale, big_w // scale) or big_h % scale or big_w % scale:
            raise ValueError(
                f"coarse fields {coarse.shape} are not the fine fields {fine.shape} "
                f"coarsened x{scale}"
            )
        return cls(
            coarse=scaler.to(torch.as_tensor(coarse, dtype=torch.float32)),
            fine=scaler.to(torch.as_tensor(fine, dtype=torch.float32)),
            geo=geometry(sdf, scale),
            fluid=torch.as_tensor(~np.asarray(mask, bool)),
            scale=scale,
            v_shift=float(scaler.mean[1] / scaler.std[1]),
        )

    def batch(self, size: int, crop: int, g: torch.Generator):
        """A batch of random crops (``crop`` fine cells a side, whole coarse cells), each
        mirrored in y with probability 1/2."""
        s = self.scale
        n, _, big_h, big_w = self.fine.shape
        ch, cw = min(crop, big_h) // s, min(crop, big_w) // s
        idx = torch.randint(0, n, (size,), generator=g)
        ys = torch.randint(0, big_h // s - ch + 1, (size,), generator=g)
        xs = torch.randint(0, big_w // s - cw + 1, (size,), generator=g)
        flips = torch.rand(size, generator=g) < 0.5
        out = {"coarse": [], "fine": [], "geo": [], "fluid": []}
        for i, y, x, f in zip(idx, ys, xs, flips, strict=True):
            parts = {
                "coarse": self.coarse[i, :, y : y + ch, x : x + cw],
                "fine": self.fine[i, :, y * s : (y + ch) * s, x * s : (x + cw) * s],
                "geo": self.geo[i, :, y * s : (y + ch) * s, x * s : (x + cw) * s],
                "fluid": self.fluid[i, y * s : (y + ch) * s, x * s : (x + cw) * s],
            }
            if f:  # mirror in y: v changes sign (in physical units, so through the scaler)
                parts = {k: v.flip(-2) for k, v in parts.items()}
            for k, v in parts.items():
                out[k].append(v)
        b = {k: torch.stack(v) for k, v in out.items()}
        for key in ("coarse", "fine"):  # standardised -v: (-v - m) / s = -x - 2 m / s
            v = b[key][:, 1]
            b[key][:, 1] = torch.where(flips.view(-1, 1, 1), -v - 2 * self.v_shift, v)
        return b


@dataclass
class SRSettings:
    """How one network is trained."""

    steps: int = 1500
    batch: int = 16
    crop: int = 64
    lr: float = 1e-3
    seed: int = 0
    gan_steps: int = 0
    adversarial_weight: float = 1e-3
    gan_lr: float = 1e-4


@dataclass
class TrainedSR:
    net: nn.Module
    curve: list[float]
    seconds: float
    discriminator: nn.Module | None = None
    gan_curve: dict[str, list[float]] = field(default_factory=dict)


def _masked_mse(pred: torch.Tensor, target: torch.Tensor, fluid: torch.Tensor) -> torch.Tensor:
    w = fluid[:, None].to(pred.dtype)
    return ((pred - target) ** 2 * w).sum() / (w.sum() * pred.shape[1]).clamp_min(1)


def train_sr(
    net: nn.Module,
    data: SRData,
    settings: SRSettings,
    folder: Path | None = None,
    say: Callable[[str], None] | None = None,
    label: str = "",
) -> TrainedSR:
    """Adam on the masked MSE of random crops, cosine-decayed; the final weights saved in
    ``folder`` (safetensors) when given. The network is called ``net(coarse, geo)``."""
    seed_everything(settings.seed)
    g = torch.Generator().manual_seed(settings.seed)
    opt = torch.optim.Adam(net.parameters(), lr=settings.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, settings.steps))
    curve, run = [], []
    start = time.perf_counter()
    net.train()
    every = max(1, settings.steps // 20)
    for step in range(settings.steps):
        b = data.batch(settings.batch, settings.crop, g)
        loss = _masked_mse(net(b["coarse"], b["geo"]), b["fine"], b["fluid"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        run.append(float(loss.detach()))
        if (step + 1) % every == 0 or step + 1 == settings.steps:
            curve.append(float(np.mean(run)))
            run = []
            if say is not None:
                say(f"  {label}: step {step + 1}/{settings.steps}, MSE {curve[-1]:.4g}")
    net.eval()
    out = TrainedSR(net, curve, time.perf_counter() - start)
    if folder is not None:
        save_weights(Path(folder) / f"{label or 'net'}.safetensors", net)
    return out


def train_srgan(
    trained: TrainedSR,
    disc: nn.Module,
    data: SRData,
    settings: SRSettings,
    folder: Path | None = None,
    say: Callable[[str], None] | None = None,
    label: str = "srgan",
) -> TrainedSR:
    """SRGAN's second stage: from a copy of a network trained on the MSE, alternate the
    discriminator (real fine crops against generated ones, each with its geometry) and the
    generator on MSE + ``adversarial_weight`` x the non-saturating adversarial loss."""
    seed_everything(settings.seed + 1)
    gen = copy.deepcopy(trained.net).train()
    g = torch.Generator().manual_seed(settings.seed + 1)
    opt_g = torch.optim.Adam(gen.parameters(), lr=settings.gan_lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=settings.gan_lr, betas=(0.5, 0.999))
    curves: dict[str, list[float]] = {"d": [], "g_mse": [], "g_adv": []}
    acc = {k: [] for k in curves}
    every = max(1, settings.gan_steps // 20)
    start = time.perf_counter()
    for step in range(settings.gan_steps):
        b = data.batch(settings.batch, settings.crop, g)
        fluid = b["fluid"][:, None].to(b["fine"].dtype)
        fake = gen(b["coarse"], b["geo"]) * fluid
        real = b["fine"] * fluid
        d_real, d_fake = disc(real, b["geo"]), disc(fake.detach(), b["geo"])
        loss_d = F.binary_cross_entropy_with_logits(
            d_real, torch.ones_like(d_real)
        ) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        d_gen = disc(fake, b["geo"])
        adv = F.binary_cross_entropy_with_logits(d_gen, torch.ones_like(d_gen))
        mse = _masked_mse(fake, b["fine"], b["fluid"])
        loss_g = mse + settings.adversarial_weight * adv
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for k, v in (("d", loss_d), ("g_mse", mse), ("g_adv", adv)):
            acc[k].append(float(v.detach()))
        if (step + 1) % every == 0 or step + 1 == settings.gan_steps:
            for k in curves:
                curves[k].append(float(np.mean(acc[k])))
                acc[k] = []
            if say is not None:
                say(
                    f"  {label}: step {step + 1}/{settings.gan_steps}, D {curves['d'][-1]:.3f}, "
                    f"MSE {curves['g_mse'][-1]:.4g}, adversarial {curves['g_adv'][-1]:.3f}"
                )
    gen.eval()
    out = TrainedSR(gen, trained.curve, time.perf_counter() - start, disc.eval(), curves)
    if folder is not None:
        save_weights(Path(folder) / f"{label}.safetensors", gen)
    return out


@torch.no_grad()
def predict(
    net: nn.Module,
    coarse: np.ndarray,
    sdf: np.ndarray,
    mask: np.ndarray,
    scale: int,
    scaler: FieldScaler,
    batch: int = 8,
) -> np.ndarray:
    """Fine fields ``(N, 3, H, W)`` in physical units from coarse ones, solid cells 0."""
    out = []
    for i in range(0, len(coarse), batch):
        c = scaler.to(torch.as_tensor(np.asarray(coarse[i : i + batch]), dtype=torch.float32))
        y = scaler.back(net(c, geometry(sdf[i : i + batch], scale))).numpy()
        out.append(np.where(np.asarray(mask[i : i + batch], bool)[:, None], 0.0, y))
    return np.concatenate(out).astype(np.float32)


def seconds_per_sample(fn: Callable[[], object], repeats: int = 3) -> float:
    """Best of ``repeats`` timed calls after one untimed warm-up."""
    fn()
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best
