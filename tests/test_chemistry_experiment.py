"""``chemistry`` end to end on a tiny configuration, then the commands that use its run:
``flowlearn chem integrate``, ``flowlearn chem export --onnx`` and ``flowlearn bench chemistry``."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("cantera", reason="chemistry needs Cantera: pip install cantera")

from flowlearn.cli import app
from flowlearn.experiments import execute, get, load_run
from flowlearn.report.figures import drawer

TINY = {
    "trajectories": 10,
    "states": 8,
    "epochs": 3,
    "members": 2,
    "extrapolation": 2,
    "width": 8,
    "depth": 2,
    "speed_states": 10,
    "speed_conditions": 1,
    "hybrid_quantiles": [0.5, 0.9],
    "workers": 1,
    "device": "cpu",
}


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Small networks: one torch thread (conftest.one_torch_thread)."""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("chem")
    exp = get("chemistry")
    return execute(exp, exp.make_config(**TINY, data_dir=str(root / "data")), root / "runs")


def test_every_figure_of_the_issue_is_measured(run_dir):
    run = load_run(run_dir)
    m = run.metrics
    assert m["trajectories"] == {"test": 2, "val": 2, "train": 6}
    assert m["states"]["train"] == 6 * 16
    for part in ("manifold", "perturbed"):
        assert m["one_step"][part]["T_mean_K"] >= 0
    for name in ("ensemble", "one_network"):
        r = m["rollout"][name]
        assert set(r["tau_error"]) == {"mean", "median", "p90", "max", "failed"}
        # conservation is on by default (NaN only if every rollout of the tiny net diverged)
        drift = r["element_drift_max"]
        assert drift is None or drift < 1e-6
    assert m["extrapolation"]["T0_range"] == [1250.0, 1300.0]
    hybrid = m["hybrid"]
    # the quantiles tried, then "never fall back"
    assert [row["quantile"] for row in hybrid["validation"]] == [0.5, 0.9, None]
    assert hybrid["threshold"] in [row["threshold"] for row in hybrid["validation"]]
    assert 0 <= hybrid["fallback_share"] <= 1
    sweep = m["speed"]["cantera"]
    assert sweep["model"] in sweep["models"]
    assert [r["rtol"] for r in sweep["rows"]] == [1e-9, 1e-6, 1e-4, 1e-3, 1e-2]
    strict = sweep["rows"][0]
    assert strict["stepped_tau_error"]["mean"] < 0.01, "strict stepping is the reference"
    assert strict["adaptive_tau_error"]["mean"] == 0.0
    for name in ("ensemble", "one_network"):
        s = m["speed"][name]
        assert set(s["seconds_per_state"]) == {"1", "64", "1024", "16384"}
        eq = s["per_state"]["1024"]
        assert eq["naive_speedup"] == pytest.approx(
            strict["per_state_mean_s"] / s["seconds_per_state"]["1024"]
        )
        assert not eq["comparable"] or eq["speedup"] <= eq["naive_speedup"] * (1 + 1e-12)
        assert float(s["break_even_states"]) > 0  # "inf" when no setting is as inaccurate
    assert set(m["targets"]) == {
        "ignition_delay_5pct",
        "speed_100x_batch1024_strict",
        "moonshot_1000x_at_1pct",
    }
    assert [c.slide for c in run.claims] == [
        "Chemistry: reduced cost of chemical computation by 100",
        "Chemistry: a network replaces the integrator",
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        names = [f.name for f in drawer("chemistry")(run)]
    assert names == [
        "chemistry_ignitions",
        "chemistry_delays",
        "chemistry_cost_accuracy",
        "chemistry_training",
    ]
    assert np.isfinite(run.arrays["tau_ref"]).all()


def test_integrate_compares_one_ignition_with_cantera(run_dir, tmp_path):
    out = tmp_path / "ign.png"
    result = CliRunner().invoke(
        app,
        [
            "chem",
            "integrate",
            str(run_dir),
            "--T0",
            "1100",
            "--phi",
            "1",
            "--p",
            "1.5atm",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Cantera" in result.output and (
        "ignition-delay error" in result.output or "no ignition" in result.output
    )
    assert out.stat().st_size > 1000
    again = CliRunner().invoke(app, ["chem", "integrate", str(run_dir), "--out", str(out)])
    assert again.exit_code == 2 and "exists" in again.output
    hybrid = CliRunner().invoke(
        app, ["chem", "integrate", str(run_dir), "--T0", "1150", "--hybrid"]
    )
    assert hybrid.exit_code == 0 and "states advanced by Cantera" in hybrid.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--T0", "-5"], "temperature -5 K must be positive"),
        (["--p", "lots"], "pressure 'lots': write e.g. 1atm"),
        (["--p", "-1atm"], "must be positive"),
        (["--phi", "0"], "equivalence ratio 0 must be positive"),
    ],
)
def test_integrate_refuses_bad_conditions(run_dir, args, message):
    result = CliRunner().invoke(app, ["chem", "integrate", str(run_dir), *args])
    assert result.exit_code == 2 and message in result.output


def test_integrate_warns_outside_the_trained_range(run_dir):
    result = CliRunner().invoke(app, ["chem", "integrate", str(run_dir), "--T0", "1400"])
    assert result.exit_code == 0
    assert "T0 = 1400 K is outside the trained range 1050-1250 K" in result.output


def test_integrate_refuses_what_is_not_a_chemistry_run(tmp_path):
    result = CliRunner().invoke(app, ["chem", "integrate", str(tmp_path)])
    assert result.exit_code == 2 and "not a finished run" in result.output


def test_export_writes_an_onnx_step_that_matches_pytorch(run_dir, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    path = tmp_path / "chem.onnx"
    result = CliRunner().invoke(app, ["chem", "export", str(run_dir), "--onnx", str(path)])
    assert result.exit_code == 0, result.output
    assert "onnxruntime matches PyTorch" in result.output
    from flowlearn.physics import chemistry as chem

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    Y = chem.initial_state("h2o2", 1100.0, chem.ONE_ATM, 1.0)
    out = session.run(None, {"state": np.array([[1100.0, chem.ONE_ATM, *Y]] * 3)})[0]
    assert out.shape == (3, 11)
    np.testing.assert_allclose(out[:, 1:].sum(axis=1), 1.0, rtol=1e-9)
    bad = CliRunner().invoke(
        app, ["chem", "export", str(run_dir), "--onnx", str(path), "--member", "7", "--overwrite"]
    )
    assert bad.exit_code == 2 and "the ensemble has 2 networks" in bad.output


def test_bench_measures_both_sides_again(run_dir, tmp_path):
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "chemistry",
            str(run_dir),
            "--states",
            "10",
            "--conditions",
            "1",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(out.read_text())
    assert body["cantera"]["rows"][0]["rtol"] == 1e-9
    eq = body["ensemble"]["per_state"]["1024"]
    assert eq["speedup"] is None or eq["speedup"] > 0
    assert eq["naive_speedup"] > 0
    assert "break-even" in result.output


@pytest.mark.parametrize(
    ("text", "pa"),
    [("1atm", 101_325.0), ("2.5 atm", 253_312.5), ("1bar", 1e5), ("101325Pa", 101_325.0),
     ("50kPa", 5e4), ("200000", 2e5)],
)  # fmt: skip
def test_pressures_read_with_their_units(text, pa):
    from flowlearn.cli._chem import parse_pressure

    assert parse_pressure(text) == pytest.approx(pa)


def test_a_machine_without_cantera_is_told_what_to_install(monkeypatch):
    import builtins

    from flowlearn.experiments.cfd import chemistry as exp_chem

    real = builtins.__import__

    def no_cantera(name, *args, **kwargs):
        if name == "cantera":
            raise ImportError("No module named 'cantera'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cantera)
    with pytest.raises(ValueError, match=r"needs Cantera: pip install cantera"):
        exp_chem.check(get("chemistry").make_config())
