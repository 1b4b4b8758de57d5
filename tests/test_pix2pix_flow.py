"""``pix2pix-flow``: the L1 U-Net and pix2pix start from the same weights and learn, the
adversarial path trains both networks, bad input is refused, and the experiment runs end to end
on a tiny configuration."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from flowlearn.models.flow import FlowUNet
from flowlearn.models.super_resolution import PatchDiscriminator
from flowlearn.training.pix2pix import Pix2PixSettings, generate, train_pix2pix


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    yield


def _toy(n=24, h=16, w=32):
    """Conditions: a bump's position; fields: a smooth function of it."""
    g = torch.Generator().manual_seed(0)
    pos = torch.rand(n, generator=g)
    xx = torch.linspace(0, 1, w).view(1, 1, w).expand(n, h, w)
    cond = torch.exp(-(((xx - pos.view(n, 1, 1)) / 0.1) ** 2))[:, None]
    fields = torch.cat([torch.sin(3 * cond), cond**2], dim=1)
    return cond, fields, torch.ones(n, h, w, dtype=torch.bool)


def test_both_variants_start_from_the_same_weights_and_learn():
    x, y, fluid = _toy()
    torch.manual_seed(0)
    gen = FlowUNet(1, 2, base=4, depth=2)
    before = {k: v.clone() for k, v in gen.state_dict().items()}
    s = Pix2PixSettings(epochs=15, batch=8, lr=2e-3)
    plain = train_pix2pix(gen, x, y, fluid, s)
    adv = train_pix2pix(gen, x, y, fluid, s, PatchDiscriminator(3, width=8, layers=1))
    assert all(torch.equal(before[k], v) for k, v in gen.state_dict().items())  # copies trained
    assert plain.history["l1"][-1] < 0.5 * plain.history["l1"][0]
    assert adv.history["l1"][-1] < 0.5 * adv.history["l1"][0]
    assert np.isnan(plain.history["d"]).all() and np.isfinite(adv.history["d"]).all()
    assert generate(plain.net, x).shape == y.shape


@pytest.mark.parametrize(
    ("sets", "message"),
    [(['tasks=["vortex"]'], "choose one or both of bodies, wake"), (["grid=[60,32]"], "multiple")],
)
def test_bad_input_exits_2_before_running(tmp_path, sets, message):
    from conftest import refused_before_running

    assert message in refused_before_running(tmp_path, "pix2pix-flow", sets)


def test_pix2pix_flow_end_to_end_tiny(tmp_path):
    from flowlearn.experiments import execute, get, load_run
    from flowlearn.report.figures import drawer

    exp = get("pix2pix-flow")
    cfg = exp.make_config(quick=True, grid=(32, 16), n_samples=16, epochs=1, wake_epochs=1,
                          width=4, workers=1, data_dir=str(tmp_path / "data"))  # fmt: skip
    run = load_run(execute(exp, cfg, tmp_path / "runs"))
    t = run.metrics["tasks"]
    assert set(t["bodies"]["methods"]) == {"unet", "pix2pix"}
    assert set(t["wake"]["methods"]) == {"unet", "pix2pix", "lookup"}
    for task in t.values():
        for sc in task["methods"].values():
            assert 0 <= sc["error"] < 2 and sc["sharpness"] > 0
    assert len(run.claims) == 3
    names = [f.name for f in drawer("pix2pix-flow")(run)]
    assert names == ["pix2pix_bodies", "pix2pix_wake", "pix2pix_spectra", "pix2pix_curves"]


def test_phase_maps_are_the_mask_and_waves_travelling_downstream():
    from flowlearn.experiments.cfd.pix2pix_flow import PHASE_WAVES, phase_maps

    mask = np.zeros((4, 8), bool)
    mask[1:3, 1:3] = True
    phase = np.array([0.0, 1.0])
    maps = phase_maps(mask, phase)
    waves = len(PHASE_WAVES)
    assert maps.shape == (2, 1 + 2 * waves, 4, 8)
    assert np.array_equal(maps[:, 0], np.broadcast_to(mask, (2, 4, 8)).astype(np.float32))
    x = (np.arange(8) + 0.5) / 8
    j = PHASE_WAVES.index(1)
    assert np.allclose(maps[1, 1 + j, 2], np.cos(1.0 - 2 * np.pi * x), atol=1e-6)
    assert np.allclose(maps[1, 1 + waves + j, 0], np.sin(1.0 - 2 * np.pi * x), atol=1e-6)
    # advancing the phase by one wave's step moves the pattern one cell downstream
    later = phase_maps(mask, phase + 2 * np.pi / 8)
    assert np.allclose(later[0, 1 + j, :, 1:], maps[0, 1 + j, :, :-1], atol=1e-6)
