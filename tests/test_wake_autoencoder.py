"""The snapshot autoencoders (:mod:`flowlearn.models.wake_autoencoder`): any snapshot size in and
out, the mode-decomposing one's fields summing to its output, and the limit cycle of a
travelling wave needing two latents (Murata, Fukami & Fukagata 2020: one number cannot encode a
periodic flow's phase without a jump)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from flowlearn.models.wake_autoencoder import ModeDecomposingAutoencoder, SnapshotAutoencoder


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Tiny tensors: one torch thread (conftest.one_torch_thread)."""


def _travelling_wave(n: int = 60) -> torch.Tensor:
    t = np.arange(n) * 0.1
    y, x = np.mgrid[0:12, 0:20] / 20.0
    phase = 2 * np.pi * (3 * x)[None] - 2 * np.pi * 0.3 * t[:, None, None]
    u = np.sin(phase) * np.sin(np.pi * y)[None]
    v = np.cos(phase) * np.sin(np.pi * y)[None]
    snaps = np.stack([u, v], axis=1)
    return torch.tensor((snaps - snaps.mean(0)) / snaps.std(), dtype=torch.float32)


@pytest.mark.parametrize("cls", [SnapshotAutoencoder, ModeDecomposingAutoencoder])
def test_any_snapshot_size_round_trips(cls):
    model = cls((2, 66, 352), latent=3, width=4, depth=4)  # the confined wake's grid
    x = torch.randn(5, 2, 66, 352)
    z = model.encode(x)
    assert z.shape == (5, 3) and model(x).shape == x.shape
    if cls is ModeDecomposingAutoencoder:
        modes = model.decode_modes(z)
        assert modes.shape == (5, 3, 2, 66, 352)
        assert torch.allclose(modes.sum(dim=1), model.decode(z), atol=1e-6)


def _trained_error(cls, latent: int) -> float:
    x = _travelling_wave()
    torch.manual_seed(0)
    model = cls((2, 12, 20), latent=latent, width=8, depth=2)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    for _ in range(400):
        opt.zero_grad()
        loss = ((model(x) - x) ** 2).mean()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return float(torch.linalg.norm(model(x) - x) / torch.linalg.norm(x))


def test_a_limit_cycle_needs_two_latents():
    one = _trained_error(SnapshotAutoencoder, 1)
    two = _trained_error(SnapshotAutoencoder, 2)
    md_two = _trained_error(ModeDecomposingAutoencoder, 2)
    assert two < 0.12 and md_two < 0.12  # measured: 0.092 and 0.054 after 400 Adam steps
    assert one > 1.5 * two  # measured: 0.183


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"shape": (2, 12, 20), "latent": 0}, "latent = 0: at least 1"),
        ({"shape": (2, 4, 20), "depth": 4}, "too small for depth 4"),
        ({"shape": (0, 12, 20)}, "all positive"),
        ({"shape": (2, 12, 20), "width": 0}, "must be at least 1"),
    ],
)
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SnapshotAutoencoder(**kwargs)
