"""``super-resolution``: coarse LBM runs of the same flows, fields averaged down, the scores
(interpolation, spectra, drag), the training data's mirror, bad input, and the experiment end to
end on a tiny configuration."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from flowlearn.data import flow_dataset as fd
from flowlearn.data import super_resolution as srd
from flowlearn.evaluation import super_resolution as ev
from flowlearn.training import super_resolution as tr

SPEC = fd.FlowDatasetSpec(grid=(64, 32), n=4, seed=0)


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    yield


def test_coarse_grids_keep_whole_cells():
    assert srd.coarse_grid((256, 128), 4) == (64, 32)
    assert srd.coarse_grid((256, 128), 16 / 3) == (48, 24)
    with pytest.raises(ValueError, match="not whole numbers"):
        srd.coarse_grid((100, 50), 3)
    with pytest.raises(ValueError, match="leaves 4 cells across"):
        srd.coarse_grid((64, 32), 8)


def test_block_mean_averages_fluid_cells_only():
    fields = np.zeros((3, 4, 4))
    fields[0] = np.arange(16).reshape(4, 4)
    mask = np.zeros((4, 4), bool)
    mask[0, 0] = True  # a solid cell: left out of its block's mean
    out = srd.block_mean(fields, mask, 2)
    assert out.shape == (3, 2, 2)
    assert out[0, 0, 0] == pytest.approx((1 + 4 + 5) / 3)
    assert out[0, 1, 1] == pytest.approx((10 + 11 + 14 + 15) / 4)
    with pytest.raises(ValueError, match="dividing 4x4"):
        srd.block_mean(fields, mask, 3)


def test_a_coarse_simulation_approaches_the_fine_one_or_says_it_diverged():
    # sample 0, a circle of 3 cells at Re 29 on the 32x16 grid: the relaxation time nears 1/2
    assert srd.coarse_run(SPEC, 0, (32, 16)).status == srd.DIVERGED
    fine = fd.compute_sample(SPEC, 2)
    errors = []
    for grid in [(32, 16), (48, 24)]:
        run = srd.coarse_run(SPEC, 2, grid)
        assert run.status == srd.OK and run.fields.shape == (3, grid[1], grid[0])
        up = ev.cubic_resize(run.fields, (32, 64))
        sc = ev.score(up[None], fine.fields[None], fine.mask[None], np.array([fine.re]),
                      np.array([fine.scalars["ref_length"]]), 64 / grid[0])  # fmt: skip
        errors.append(sc["error"][0])
    # a coarse run of the same flow is close, and closer on the finer of two grids
    assert errors[1] < errors[0] < 0.15


def test_coarse_sets_are_cached_checked_and_recomputed_when_damaged(tmp_path, monkeypatch):
    grid = (32, 16)
    first = srd.coarse_set(SPEC, np.array([0, 1]), grid, tmp_path)
    (path,) = tmp_path.glob("coarse-32x16-*.npz")

    def fail(*a, **k):
        raise AssertionError("recomputed")

    monkeypatch.setattr(srd, "coarse_run", fail)
    again = srd.coarse_set(SPEC, np.array([0, 1]), grid, tmp_path)  # read back, not run
    assert np.array_equal(again.fields, first.fields) and list(again.status) == list(first.status)
    with np.load(path) as z:  # tamper with the stored fields, keep the old digest
        arrays = dict(z)
    arrays["fields"] = arrays["fields"] + 1
    np.savez_compressed(path, **arrays)
    with pytest.raises(AssertionError, match="recomputed"):
        srd.coarse_set(SPEC, np.array([0, 1]), grid, tmp_path)


def test_cubic_resize_reproduces_a_linear_field_at_any_ratio():
    h, w, big_h, big_w = 36, 48, 96, 128  # ratio 8/3
    yy, xx = np.meshgrid((np.arange(h) + 0.5) / h, (np.arange(w) + 0.5) / w, indexing="ij")
    coarse = 2 * xx - 3 * yy
    out = ev.cubic_resize(coarse[None], (big_h, big_w))[0]
    yy, xx = np.meshgrid((np.arange(big_h) + 0.5) / big_h, (np.arange(big_w) + 0.5) / big_w,
                         indexing="ij")  # fmt: skip
    inner = (slice(40, -40), slice(40, -40))  # the spline bends near its held edges
    assert np.allclose(out[inner], (2 * xx - 3 * yy)[inner], atol=1e-5)


def test_spectrum_and_fine_scale_energy():
    nx, ny = 256, 16  # the spectrum reads the downstream half: 128 cells
    x = np.arange(nx)
    f = np.zeros((1, 3, ny, nx))
    f[0, 0] = np.sin(2 * np.pi * 20 * x / nx)  # 10 cycles per half
    f[0, 0] += 0.3 * np.sin(2 * np.pi * 80 * x / nx)  # 40 per half
    mask = np.zeros((1, ny, nx), bool)
    k, e = ev.energy_spectrum(f, mask)
    assert k[np.argmax(e)] == 10 and e[40] > 10 * e[30]
    smooth = f.copy()
    smooth[0, 0] = np.sin(2 * np.pi * 20 * x / nx)  # the fine scales removed
    assert ev.fine_scale_energy(f, f, mask, 4) == pytest.approx(1)
    assert ev.fine_scale_energy(smooth, f, mask, 4) < 0.01  # 40 > 128 / 8: lost


def test_a_perfect_prediction_scores_perfectly():
    s = fd.compute_sample(SPEC, 1)
    sc = ev.score(s.fields[None], s.fields[None], s.mask[None], np.array([s.re]),
                  np.array([s.scalars["ref_length"]]), 2)  # fmt: skip
    assert sc["error"][0] == 0 and sc["ssim"][0] == pytest.approx(1)
    assert sc["cd_error"][0] == 0 and sc["fine_pred"][0] == pytest.approx(sc["fine_true"][0])
    assert ev.summary(sc)["fine_energy"] == pytest.approx(1)


def test_training_crops_mirror_v_in_physical_units():
    n, h, w, s = 2, 16, 32, 4
    fine = np.zeros((n, 3, h, w), np.float32)
    fine[:, 0], fine[:, 1], fine[:, 2] = 1.0, 0.3, -0.5
    fine[1, 1] = 0.7
    mask = np.zeros((n, h, w), bool)
    sdf = np.ones((n, h, w), np.float32)
    coarse = srd.block_mean(fine, mask, s)
    scaler = tr.FieldScaler.fit(fine, mask)
    data = tr.SRData.make(coarse, fine, mask, sdf, s, scaler)
    b = data.batch(64, 8, torch.Generator().manual_seed(0))
    v = scaler.back(b["fine"])[:, 1].mean((1, 2)).numpy()
    assert {round(float(x), 4) for x in v} == {0.3, -0.3, 0.7, -0.7}  # mirrored crops: -v
    assert np.allclose(scaler.back(b["coarse"])[:, 1].mean((1, 2)).numpy(), v, atol=1e-5)
    with pytest.raises(ValueError, match="coarsened x2"):
        tr.SRData.make(coarse, fine, mask, sdf, 2, scaler)


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["factors=[3]"], "powers of two"),
        (["grid=[100,48]", "factors=[4]"], "not whole numbers"),
        (["factors=[4]", "crop=30"], "not a multiple of the factor 4"),
        (["ladder=[16]"], "k must be 1 to 15"),
    ],
)
def test_bad_input_exits_2_before_running(tmp_path, sets, message):
    from conftest import refused_before_running

    assert message in refused_before_running(tmp_path, "super-resolution", sets)


def test_super_resolution_end_to_end_tiny(tmp_path):
    from flowlearn.experiments import execute, get, load_run
    from flowlearn.report.figures import drawer

    exp = get("super-resolution")
    cfg = exp.make_config(quick=True, grid=(64, 32), n_samples=12, factors=(2,), ladder=(8, 12),
                          steps=4, gan_steps=2, crop=16, width=8, blocks=1, workers=1,
                          data_dir=str(tmp_path / "data"))  # fmt: skip
    run = load_run(execute(exp, cfg, tmp_path / "runs"))
    m = run.metrics
    methods = m["factors"]["2"]["methods"]
    assert set(methods["mean"]) == {"cubic", "raisr", "srcnn"}
    assert {"cubic", "raisr", "srcnn", "srresnet", "srgan"} <= set(methods["lbm"])
    for kind in methods.values():
        for sc in kind.values():
            assert 0 <= sc["error"] < 1 and sc["seconds"] > 0
    assert [r["k"] for r in m["ladder"]] == [16, 8, 12] and m["ladder"][0]["error"] == 0
    assert "x2-srgan" in m["equal_cost"] and len(run.claims) == 4
    wake = m["wake"]["factors"]["2"]
    assert set(wake["methods"]) == {"cubic", "raisr", "srcnn", "srresnet", "srgan"}
    assert wake["coarse_lbm"].startswith("the wake diverged")  # 8 cells per diameter at Re 100
    names = [f.name for f in drawer("super-resolution")(run)]
    assert "super_resolution_cost" in names and "super_resolution_fields_x2_lbm" in names
