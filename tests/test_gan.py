"""The generative scores against known values, the DCGAN's shapes and initialisation, and
``gan`` end to end on a tiny configuration (figures included)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from flowlearn.cli import app
from flowlearn.evaluation.generative import class_histogram, frechet_distance, nearest_distances
from flowlearn.models.gan import Discriminator, Generator, dcgan_init


def test_frechet_distance_of_known_gaussians():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20_000, 3))
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    # shifted means: |d mu|^2; scaled: sum (sigma_a - sigma_b)^2 for diagonal covariances
    assert frechet_distance(a, a + np.array([1.0, 2.0, 0.0])) == pytest.approx(5.0, rel=1e-6)
    b = rng.normal(size=(20_000, 3)) * np.array([1.0, 2.0, 3.0])
    assert frechet_distance(a, b) == pytest.approx(0 + 1 + 4, rel=0.05)
    with pytest.raises(ValueError, match="two feature sets"):
        frechet_distance(a, a[:, :2])


def test_class_histogram_and_nearest_distances():
    logits = np.eye(10)[[0, 0, 1, 9]]
    assert class_histogram(logits).tolist() == [0.5, 0.25] + [0] * 7 + [0.25]
    ref = torch.rand(50, 1, 28, 28)
    copies = ref[:5].clone()
    # cdist by matrix products: exact copies come out within float32 rounding of 0
    assert np.allclose(nearest_distances(copies, ref), 0, atol=0.05)
    assert (nearest_distances(torch.rand(5, 1, 28, 28), ref) > 1).all()


def test_dcgan_shapes_range_and_initialisation():
    G, D = Generator(16, 8), Discriminator(8)
    dcgan_init(G)
    dcgan_init(D)
    x = G(torch.randn(4, 16))
    assert x.shape == (4, 1, 28, 28) and x.abs().max() <= 1
    assert D(x).shape == (4,)
    w = D.net[0].weight
    assert abs(float(w.std()) - 0.02) < 0.01


def test_gan_end_to_end_tiny(tmp_path, one_torch_thread):
    from tests.conftest import shared_subfolder

    from flowlearn.experiments import execute, get, load_run
    from flowlearn.report.figures import drawer

    shared_subfolder("mnist")
    exp = get("gan")
    config = exp.make_config(quick=True, n_train=1000, n_test=400, epochs=1, width=8,
                             n_eval=200, vae_epochs=1)  # fmt: skip
    run = load_run(execute(exp, config, tmp_path))
    m = run.metrics
    fd = m["frechet"]
    assert fd["samples"] == 200
    assert 0 < fd["real_vs_real"] < fd["gan"] and fd["vae"] > fd["real_vs_real"]
    assert abs(sum(run.arrays["hist_gan"]) - 1) < 1e-9
    assert m["memorisation"]["ratio"] > 0 and len(run.arrays["nearest_gan"]) == 200
    assert run.arrays["gan_samples"].shape == (64, 28, 28)
    assert (run.path / "gan" / "checkpoints" / "last-generator.safetensors").is_file()
    names = [f.name for f in drawer("gan")(run)]
    assert names == ["gan_samples", "gan_classes", "gan_nearest", "gan_memorisation",
                     "gan_training"]  # fmt: skip


def test_standard_fid_is_refused_with_a_way_out_when_unavailable(tmp_path):
    from flowlearn.evaluation import generative as ev

    missing = tmp_path / "weights-inception-2015-12-05-6726825d.pth"
    with pytest.raises(ev.FidUnavailable, match="flowlearn\\[fid\\]"):
        ev.inception_weights(missing, download=False)
    missing.write_bytes(b"not the weights")
    with pytest.raises(ValueError, match="is not that of the FID Inception weights"):
        ev.inception_weights(missing)
    res = CliRunner().invoke(
        app, ["run", "gan", "--quick", "--out", str(tmp_path / "runs"), "--set", "fid=true",
              "--set", f"fid_weights={tmp_path / 'none.pth'}"],
    )  # fmt: skip
    assert res.exit_code == 2, res.output
    assert "standard FID is not available" in " ".join(res.output.split())
    assert not (tmp_path / "runs").exists()


def test_inception_features_take_grey_images_in_0_1_as_uint8_rgb():
    from flowlearn.evaluation import generative as ev

    seen = []

    def extractor(x):  # stands in for Inception: records what it was given
        seen.append(x)
        return (x.float().mean((2, 3)),)

    feats = ev.inception_features(torch.full((5, 1, 28, 28), 0.5), extractor, batch=2)
    assert feats.shape == (5, 3) and np.allclose(feats, 128)
    assert all(x.dtype == torch.uint8 and x.shape[1] == 3 for x in seen) and len(seen) == 3
    with pytest.raises(ValueError, match="images \\(n, 1 or 3, H, W\\)"):
        ev.inception_features(torch.zeros(2, 2, 8, 8), extractor)
