"""surrogate-models end to end on a tiny dataset: every candidate trained on the same data, the
per-family table, the data-efficiency curve, the claims decided from the numbers, the report."""

from __future__ import annotations

import numpy as np
import pytest

from flowlearn.experiments import execute, get, load_run
from flowlearn.physics.shape_families import HELDOUT_FAMILIES
from flowlearn.report import render_run

TINY = {
    "grid": (32, 16),
    "n_samples": 40,
    "re_range": (5.0, 20.0),
    "n_heldout": 2,
    "width": 4,
    "widths": {"fno": 4},
    "epochs": 1,
    "batch_size": 8,
    "fractions": [0.5, 1.0],
    "workers": 1,
    "device": "cpu",
}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    exp = get("surrogate-models")
    return execute(exp, exp.make_config(**TINY, data_dir=str(root / "data")), root / "runs")


def test_every_candidate_is_measured_on_the_same_samples(run_dir):
    run = load_run(run_dir)
    m = run.metrics
    assert list(m["models"]) == ["unet", "unet-attn", "fno", "unet-div", "guo"]
    for name, r in m["models"].items():
        assert set(r["heldout_error_by_family"]) <= set(HELDOUT_FAMILIES), name
        assert r["heldout_error_family_mean"] == pytest.approx(
            np.mean(list(r["heldout_error_by_family"].values()))
        )
        assert 0 < r["test_error"] < 2 and r["weights"] > 0 and r["training_s"] > 0
        assert r["train_samples"] == m["samples"]["train"]
    means = {k: r["heldout_error_family_mean"] for k, r in m["models"].items()}
    assert m["best_model"] == min(means, key=means.get)
    # the FNO and the attention U-Net are other networks, not the U-Net under another name
    assert m["models"]["fno"]["weights"] != m["models"]["unet"]["weights"]
    assert m["models"]["unet-attn"]["weights"] > m["models"]["unet"]["weights"]


def test_the_data_efficiency_curve_trains_the_best_model_on_growing_subsets(run_dir):
    m = load_run(run_dir).metrics
    curve = m["data_efficiency"]
    assert m["curve_model"] == m["best_model"]
    sizes = [c["train_samples"] for c in curve]
    assert sizes == sorted(sizes) and sizes[-1] == m["samples"]["train"]
    # equal optimiser steps: half the data, twice the epochs
    assert curve[0]["epochs"] == 2 * curve[-1]["epochs"]
    # the full-size point is the comparison's own model, not a second training
    assert (
        curve[-1]["heldout_error_family_mean"]
        == (m["models"][m["best_model"]]["heldout_error_family_mean"])
    )
    held = [c["heldout_error_family_mean"] for c in curve]
    slope = np.polyfit(np.log(sizes), np.log(held), 1)[0]
    assert m["data_efficiency_slope"] == pytest.approx(slope)


def test_claims_follow_the_numbers_and_the_report_renders(run_dir):
    run = load_run(run_dir)
    m = run.metrics
    data_claim = next(c for c in run.claims if "more data" in c.talk)
    assert data_claim.reproduced == (m["data_efficiency_slope"] < -0.1)
    text = render_run(run_dir).read_text(encoding="utf-8")
    assert "models_by_family" in text and "data_efficiency" in text


def test_bad_configs_are_refused():
    exp = get("surrogate-models")
    with pytest.raises(ValueError, match="choose one or more of"):
        exp.make_config(models=["transformer"])
    with pytest.raises(ValueError, match=r"fractions \[0.0\] must be in \(0, 1\]"):
        exp.make_config(fractions=[0.0])
    with pytest.raises(ValueError, match="curve_model 'cnn'"):
        exp.make_config(curve_model="cnn")
    with pytest.raises(ValueError, match="multiples of 8"):
        exp.check(exp.make_config(grid=(36, 16)))
