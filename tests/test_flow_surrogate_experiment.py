"""flow-surrogate end to end on a tiny dataset (32x16 samples generated in the test): data, an
ensemble and the baseline, every metric and claim, the report, predict and export from the run."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

from flowlearn.cli._app import app
from flowlearn.experiments import execute, get, load_run
from flowlearn.physics.shape_families import HELDOUT_FAMILIES
from flowlearn.report import render_run

TINY = {
    "grid": (32, 16),
    "n_samples": 30,
    "re_range": (5.0, 20.0),
    "n_heldout": 2,
    "re_sweep": (3.0, 30.0),
    "n_re_sweep": 6,
    "width": 4,
    "baseline_width": 4,
    "ensemble": 2,
    "epochs": 2,
    "baseline_epochs": 2,
    "batch_size": 8,
    "workers": 1,
    "n_speed_samples": 2,
    "device": "cpu",
}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("surrogate")
    exp = get("flow-surrogate")
    config = exp.make_config(**TINY, data_dir=str(root / "data"))
    return execute(exp, config, root / "runs")


def test_run_measures_every_quantity(run_dir):
    run = load_run(run_dir)
    m = run.metrics
    assert m["samples"]["train"] >= 10 and m["samples"]["test"] >= 1
    assert 0 < m["test_error"] < 1.5  # two epochs: poor, but a finite relative error
    # the ensemble's mean field is never further from the truth than its members on average
    # (triangle inequality, sample by sample)
    assert m["test_error"] <= np.mean(m["test_error_members"]) + 1e-9
    assert set(m["heldout_error_by_family"]) <= set(HELDOUT_FAMILIES)
    assert m["heldout_error_family_mean"] == pytest.approx(
        np.mean(list(m["heldout_error_by_family"].values()))
    )
    # the out-of-distribution warning, judged on the held-out samples
    ood = m["ood"]
    assert ood["samples"] == m["samples"]["heldout"]
    assert ood["auroc"] is None or 0 <= ood["auroc"] <= 1
    assert 0 <= ood["flagged_fraction"] <= 1
    # both baselines: Guo's CNN on the U-Net's inputs, and on the shape alone
    assert math.isfinite(m["guo_test_error"]) and math.isfinite(m["guo_shape_test_error"])
    assert m["guo_test_error"] != m["guo_shape_test_error"]
    assert set(m["test_channel_mse"]) == {"u", "v", "p", "total"}
    assert math.isfinite(m["cd_error_heldout"]) and math.isfinite(m["guo_test_error"])
    # The control-volume drag of the LBM's own fields is close to its momentum exchange.
    assert m["cd_estimator_bias_test"] < 0.1
    assert m["lbm_seconds_per_sample"] > 0
    for model, suffix in (("surrogate", ""), ("single_model", "_single_model"), ("guo", "_guo")):
        for batch in ("1", "64"):  # the speed-up is the ratio of the two times measured
            ratio = m["lbm_seconds_per_sample"] / m[f"{model}_seconds_per_sample"][batch]
            assert m[f"speedup{suffix}"][batch] == pytest.approx(ratio, rel=1e-12)
    # the speed at equal accuracy: every LBM setting measured on both sets, the recipe's time
    # is the naive ratio's, each network placed against the front, the warm starts converge
    for name in ("test", "heldout"):
        speed = m["cost_accuracy"][name]
        assert speed["samples"] == 2 and len(speed["lbm"]) == 3 * 3 * 6
        assert set(speed["networks"]) == {"ensemble", "one network", "guo"}
        for net in speed["networks"].values():
            assert net["equal_accuracy"]["64"]["speedup"] > 0
            assert net["break_even"]["64"]["pays_off"] in (True, False)
        warm = speed["warm"]
        assert warm["uniform"]["step_ratio_median"] == 1.0
        assert warm["ensemble"]["max_difference"] < 1e-3
    test_speed = m["cost_accuracy"]["test"]
    assert m["lbm_seconds_per_sample"] == test_speed["reference_seconds"]
    recipe = next(r for r in test_speed["lbm"] if r["label"] == "grid, U 0.05, tol 1e-07")
    assert recipe["error_mean"] < 1e-5  # the dataset's recipe reproduces its own data
    # a batch of 64 costs less per sample than 64 calls of one
    assert m["surrogate_seconds_per_sample"]["64"] < m["surrogate_seconds_per_sample"]["1"]
    assert -1 <= m["spread_error_spearman_pixels"] <= 1
    for counts in (d["status"] for d in m["datasets"].values()):
        assert counts["pending"] == 0
    # claims are decided from the numbers
    naca = m["heldout_error_by_family"].get("naca", 0.0)
    guo = run.claims[0]
    assert guo.reproduced == (m["test_error"] <= 0.0269 and naca <= 0.0269)
    assert "(circle, ellipse, rectangle, triangle, polygon, blob, slender, multi)" in guo.reason
    assert len(run.arrays["test_error"]) == m["samples"]["test"]
    assert run.arrays["example_true"].shape[1:] == (3, 16, 32)


#: Metrics decided by wall-clock times: the cost-accuracy front and what is read from it.
TIMED = ("seconds", "speedup", "threads", "cost_accuracy", "equal_accuracy", "lbm_curve")


def _deterministic(metrics: dict) -> dict:
    """The metrics that do not depend on wall-clock time, flattened; of the cost-accuracy
    measurement, the LBM's errors and the warm starts' steps."""
    out = {}
    for name, speed in (metrics.get("cost_accuracy") or {}).items():
        for row in speed["lbm"]:
            out[f"cost_accuracy/{name}/{row['label']}"] = row["error_mean"]
        for start, w in (speed.get("warm") or {}).items():
            out[f"cost_accuracy/{name}/warm/{start}"] = w["steps_median"]
    for key, value in metrics.items():
        if key.endswith("_s") or any(t in key for t in TIMED):
            continue
        if isinstance(value, dict):
            out.update({f"{key}/{k}": v for k, v in _deterministic(value).items()})
        else:
            out[key] = value
    return out


def test_same_config_and_seed_give_the_same_metrics_in_two_processes(tmp_path):
    """The README's promise, in two fresh processes (same machine, same thread count): every
    metric but the timings is equal to the last bit."""
    import os
    import subprocess
    import sys

    sets = [f"{k}={json.dumps(list(v) if isinstance(v, tuple) else v)}" for k, v in TINY.items()]
    cmd = [sys.executable, "-m", "flowlearn", "run", "flow-surrogate",
           "--set", f"data_dir={tmp_path / 'data'}", "--out", str(tmp_path / "runs")]  # fmt: skip
    for s in sets:
        cmd += ["--set", s]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    for _ in range(2):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    first, second = (
        _deterministic(load_run(d).metrics)
        for d in sorted((tmp_path / "runs" / "flow-surrogate").iterdir())
    )
    assert len(first) > 40 and "test_error" in first and "guo_shape_test_error" in first
    assert first == second


def test_checkpoints_hold_normalisation_and_report_renders(run_dir):
    from flowlearn.training import load_checkpoint
    from flowlearn.training.surrogate import member_checkpoints

    paths = member_checkpoints(run_dir)
    assert len(paths) == 2
    ckpt = load_checkpoint(paths[0])
    assert ckpt.config["surrogate"]["grid"] == [32, 16]
    assert {"in_mean", "out_std", "re_range"} <= set(ckpt.normalisation)
    # the member's weights hold its normaliser: the checkpoint maps physical inputs to fields
    assert {"normaliser.out_std", "normaliser.re_range"} <= set(ckpt.state_dict)
    np.testing.assert_array_equal(
        ckpt.state_dict["normaliser.out_std"].numpy(), np.asarray(ckpt.normalisation["out_std"])
    )
    # fitted on the training split: its Re range lies inside the configured one
    lo, hi = np.asarray(ckpt.normalisation["re_range"])
    assert 5.0 <= lo <= hi <= 20.0
    html = render_run(run_dir)
    text = html.read_text(encoding="utf-8")
    assert "surrogate_errors" in text or "Relative velocity error" in text


def test_predict_and_export_from_the_run(run_dir, tmp_path):
    csv = tmp_path / "body.csv"
    csv.write_text("# units: H\nx,y\n0.5,0.35\n0.8,0.5\n0.5,0.65\n0.5,0.35\n", encoding="utf-8")
    runner = CliRunner()
    out = tmp_path / "pred"
    result = runner.invoke(
        app, ["predict", str(run_dir), "--shape", str(csv), "--re", "12", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "prediction.nc").exists() and (out / "prediction.png").exists()
    assert "out-of-distribution score" in result.output or "out of the surrogate" in (result.output)

    def predict_again():
        args = ["predict", str(run_dir), "--shape", str(csv), "--re", "12", "--out", str(out)]
        return runner.invoke(app, [*args, "--overwrite"])

    # a body the detector flags: the warning says so and why (threshold lowered for the test)
    ood = run_dir / "ood.json"
    original = ood.read_text(encoding="utf-8")
    data = json.loads(original)
    data["threshold"] -= 50.0
    ood.write_text(json.dumps(data), encoding="utf-8")
    try:
        result = predict_again()
    finally:
        ood.write_text(original, encoding="utf-8")
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "out of the surrogate's reach" in flat and "check it with --compare" in flat
    import xarray as xr

    with xr.open_dataset(out / "prediction.nc") as ds:
        assert ds.attrs["ood_flag"] == 1 and ds.attrs["ood_score"] > 1
    ood.write_text("{damaged", encoding="utf-8")
    try:
        bad = predict_again()
    finally:
        ood.write_text(original, encoding="utf-8")
    assert bad.exit_code != 0 and "not an out-of-distribution detector" in bad.output
    # a run without a detector (an earlier flowlearn) still predicts, and says it cannot check
    moved = run_dir / "ood.json.away"
    (run_dir / "ood.json").rename(moved)
    try:
        result = predict_again()
    finally:
        moved.rename(run_dir / "ood.json")
    assert result.exit_code == 0, result.output
    assert "no out-of-distribution check" in " ".join(result.output.split())
    onnx = tmp_path / "m.onnx"
    result = runner.invoke(app, ["export", str(run_dir), "--onnx", "--out", str(onnx)])
    assert result.exit_code == 0, result.output
    meta = json.loads(onnx.with_suffix(".json").read_text(encoding="utf-8"))
    assert meta["grid"] == [32, 16] or list(meta["grid"]) == [32, 16]


def test_two_rank_launch_trains_with_ddp_and_reports_once(tmp_path):
    """The same command under torchrun (2 CPU ranks; srun on a cluster works alike): one shared
    run directory, rank 0 makes the data and the report, both ranks train with DDP."""
    import os
    import subprocess
    import sys

    sets = [
        "grid=[32,16]", "n_samples=24", "re_range=[5,20]", "n_heldout=2", "n_re_sweep=0",
        "width=4", "baseline=false", "ensemble=1", "epochs=2", "batch_size=8", "workers=1",
        "n_speed_samples=1", "warm_start=false", f"data_dir={tmp_path / 'data'}",
    ]  # fmt: skip
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
           "-m", "flowlearn", "run", "flow-surrogate", "--device", "cpu",
           "--out", str(tmp_path / "runs")]  # fmt: skip
    for s in sets:
        cmd += ["--set", s]
    env = {**os.environ, "FLOWLEARN_RUN_ID": "two-ranks", "MPLBACKEND": "Agg"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run_dir = tmp_path / "runs" / "flow-surrogate" / "two-ranks"
    assert "Starting with 2 processes" in (run_dir / "run.log").read_text(encoding="utf-8")
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in (run_dir / "run.rank1.log").read_text("utf-8")
    run = load_run(run_dir)
    assert run.metrics["samples"]["test"] >= 1 and (run_dir / "report.html").exists()


def test_epochs_fit_the_time_budget():
    from flowlearn.training.ensemble import fit_epochs_to_budget

    plan = [("unet", 0), ("unet", 1), ("guo", 0)]
    asked = {"unet": 100, "guo": 200}
    per_epoch = {"unet": 1.0, "guo": 0.5}.__getitem__
    # plenty of time: nothing is cut
    roomy = fit_epochs_to_budget(asked, plan, per_epoch, remaining_s=10_000)
    assert roomy["epochs"] == asked and roomy["scale"] == 1.0
    # 2 x 100 x 1 s + 200 x 0.5 s = 300 s asked; 1000 s left keeps 100 for the evaluation
    # and 3 s for the probes: 897 s is enough
    assert fit_epochs_to_budget(asked, plan, per_epoch, 1000)["scale"] == 1.0
    # 213 s left: 150 s for training (60 s evaluation, 3 s probes) -> half of every epoch count
    tight = fit_epochs_to_budget(asked, plan, per_epoch, remaining_s=213)
    assert tight["scale"] == pytest.approx(0.5)
    assert tight["epochs"] == {"unet": 50, "guo": 100}
    assert tight["training_s"] == pytest.approx(150)
    # never below one epoch
    assert fit_epochs_to_budget(asked, plan, per_epoch, 64)["epochs"] == {"unet": 1, "guo": 1}
    with pytest.raises(ValueError, match="raise time_budget_minutes"):
        fit_epochs_to_budget(asked, plan, per_epoch, remaining_s=30)


def test_a_time_budget_cuts_the_epochs_and_the_run_says_so(run_dir):
    """Same tiny data (cached by the first run), 1,000 epochs asked, 1.5 minutes allowed."""
    exp = get("flow-surrogate")
    root = run_dir.parents[2]
    config = exp.make_config(
        **{**TINY, "epochs": 1000, "baseline_epochs": 1000, "ensemble": 1},
        time_budget_minutes=1.5,
        data_dir=str(root / "data"),
    )
    m = load_run(execute(exp, config, root / "budget")).metrics
    assert 0 < m["time_budget_scale"] < 1
    assert 1 <= m["epochs"]["unet"] < 1000 and 1 <= m["epochs"]["guo"] < 1000
    assert not list((root / "budget").glob("flow-surrogate/*/probe"))  # the probe is cleaned up


def test_a_time_budget_is_refused_under_a_multi_rank_launch(tmp_path, monkeypatch):
    from flowlearn.experiments.cfd import flow_surrogate

    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    config = get("flow-surrogate").make_config(**TINY, time_budget_minutes=5.0)
    with pytest.raises(ValueError, match="not supported under torchrun/srun"):
        flow_surrogate.run(config, tmp_path)


def test_bfloat16_training_runs_and_bad_precision_is_refused(run_dir):
    exp = get("flow-surrogate")
    root = run_dir.parents[2]
    config = exp.make_config(
        **{**TINY, "ensemble": 1, "epochs": 1, "baseline": False},
        precision="bf16-mixed",
        data_dir=str(root / "data"),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = load_run(execute(exp, config, root / "bf16")).metrics
    assert 0 < m["test_error"] < 1.5
    # one member has no spread: the spread-based figures are absent, not computed on zeros
    # (scipy's constant-input warnings leaked into the output before)
    assert m["spread_error_spearman_pixels"] is None and m["spread_error_spearman_samples"] is None
    assert m["ood"]["auroc_spread"] is None
    assert not [w for w in caught if "constant" in str(w.message).lower()]
    with pytest.raises(ValueError, match="precision '16'"):
        exp.make_config(**TINY, precision="16")
