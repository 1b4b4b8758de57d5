"""``flow-control``: controllers measured (drag reduction against the uncontrolled flow, jets'
share), a tiny end-to-end run whose figures and claims come out of its numbers, bad settings
refused before any run directory exists."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from flowlearn.cli import app
from flowlearn.envs import CylinderJetsEnv
from flowlearn.evaluation import control as ev
from flowlearn.experiments import load_run


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("control")


def test_controllers_and_their_summary(cache):
    env = CylinderJetsEnv(cache_dir=cache, episode_periods=2.0)
    n = 2 * env.settings["actions_per_period"]
    still = ev.rollout(env, ev.constant(0.0), n, seed=0)
    assert len(still["cd"]) == n and not still["diverged"]
    per = env.settings["actions_per_period"]
    s = ev.summary(still, per, env.cd0, per)
    assert abs(s["reduction"]) < 0.03 and s["jet_mean"] == 0 and s["cl_std"] > 0.3
    # the slots are part of the cylinder's wall: at rest they carry a little of its drag
    assert 0 < s["cd_with_slots"] - s["cd"] < 0.1 * s["cd"]

    blow = ev.rollout(env, ev.constant(1.0), n, seed=0)
    jets = ev.summary(blow, per, env.cd0, per)
    assert jets["jet_max"] == pytest.approx(0.06, rel=0.05)  # relaxed to the bound
    assert jets["jet_reversals"] == 0

    wave = ev.sinusoid(1.0, 12)
    assert [float(wave(None, k)[0]) for k in (0, 3, 6, 9)] == pytest.approx([0, 1, 0, -1], abs=1e-6)

    broken = {**still, "diverged": "the LBM diverged after 3 actions"}
    assert np.isnan(ev.summary(broken, 4, env.cd0, per)["reduction"])


@pytest.mark.parametrize(
    ("jet", "reversals"),
    [
        (np.sin(2 * np.pi * (np.arange(48) + 0.5) / 12), 7 * 12 / 48),  # 7 in 4 periods
        ((-1.0) ** np.arange(48), 12.0 * 47 / 48),  # switching every action
        (np.r_[np.zeros(10), np.ones(38)], 0.0),  # switched on once: no reversal
        (np.r_[np.ones(24), np.zeros(4), -np.ones(20)], 12 / 48),  # through zero counts once
    ],
)
def test_jet_reversals_count_sign_changes_per_shedding_period(jet, reversals):
    n = len(jet)
    run = {"cd": np.full(n, 3.0), "cl": np.zeros(n), "jet": 0.01 * jet, "slot_cd": np.zeros(n),
           "diverged": ""}  # fmt: skip
    s = ev.summary(run, n, 3.0, 12)
    assert s["jet_reversals"] == pytest.approx(reversals)
    assert s["jet_mean"] == pytest.approx(0.01 * np.abs(jet).mean())


def test_a_tiny_run_end_to_end_with_its_report_and_animation(cache, tmp_path):
    sets = {"timesteps": 96, "seeds": 1, "n_envs": 1, "n_steps": 48, "batch_size": 48,
            "episode_periods": 1.0, "eval_periods": 2.5, "average_periods": 1.0,
            "fine_cells_per_diameter": 18, "data_dir": str(cache)}  # fmt: skip
    args = ["run", "flow-control", "--out", str(tmp_path)]
    for k, v in sets.items():
        args += ["--set", f"{k}={v}"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    run_dir = next((tmp_path / "flow-control").iterdir())
    run = load_run(run_dir)
    m = run.metrics
    assert set(m["coarse"]) == {"uncontrolled", "constant", "sinusoid", "ppo_seed0"}
    assert set(m["fine"]) == {"uncontrolled", "ppo_seed0"}
    assert abs(m["coarse"]["uncontrolled"]["reduction"]) < 0.05
    assert 3.05 < m["cd0"] < 3.3 and 3.05 < m["cd0_fine"] < 3.3
    assert (run_dir / "weights" / "ppo-seed0.safetensors").is_file()
    red = m["coarse"]["ppo_seed0"]["reduction"]
    assert f"{100 * red:+.1f} %" in run.claims[0].measured
    assert run.claims[1].reproduced == (
        red > max(m["coarse"]["constant"]["reduction"], m["coarse"]["sinusoid"]["reduction"])
    )
    # the animation: two periods (24 actions) of the uncontrolled wake above the controlled one
    from PIL import Image

    gif = run_dir / "figures" / "flow_control_animation.gif"
    with Image.open(gif) as im:
        assert im.n_frames == 24 and im.size[1] > 2 * 60
    html = (run_dir / "report.html").read_text()
    assert html.count("data:image/gif;base64,") == 1 and "data:image/png;base64," in html
    gif.unlink()  # a re-drawn report makes it again
    assert CliRunner().invoke(app, ["report", str(run_dir)]).exit_code == 0
    assert gif.is_file()


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["fine_cells_per_diameter=16"], "must exceed cells_per_diameter 16"),
        (["average_periods=7", "eval_periods=6"], "must be below eval_periods"),
        (["cells_per_diameter=10"], "cells_per_diameter"),
        (["max_jet=0.5"], "max_jet"),
        (["smoothing=0"], "smoothing"),
    ],
)
def test_bad_config_exits_2_before_running(tmp_path, sets, message):
    from conftest import refused_before_running

    assert message in refused_before_running(tmp_path, "flow-control", sets)
