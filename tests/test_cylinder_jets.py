"""``flowlearn/CylinderJets-v0``: registered, Gymnasium's ``check_env`` passes, the uncontrolled
flow has the Schäfer–Turek drag and scores about 0, the jets' mass flux is zero net and the
reward does not count their thrust, bad settings and actions are refused, a diverging solver
ends the episode with a message and no NaN."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import flowlearn.envs
from flowlearn.envs import CylinderJetsEnv


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("control")


@pytest.fixture(scope="module")
def env(cache):
    return CylinderJetsEnv(cache_dir=cache, episode_periods=1.0)


def test_registered_and_passes_gymnasiums_checker(cache):
    made = gym.make(flowlearn.envs.ENV_ID, cache_dir=cache, episode_periods=1.0)
    assert isinstance(made.unwrapped, CylinderJetsEnv)
    check_env(made.unwrapped, skip_render_check=True)
    obs, _ = made.reset(seed=3)
    assert obs.shape == (111,) and np.isfinite(obs).all()
    made.close()


def test_uncontrolled_drag_is_schafer_turek_and_scores_zero(env):
    # Schäfer & Turek (1996) 2D-2: C_D max 3.22-3.24 (mean about 3.2), St 0.295-0.305
    assert 3.05 < env.cd0 < 3.3
    env.reset(seed=0)
    out = [env.step(np.zeros(1, np.float32)) for _ in range(5 * env._avg)]
    last = out[-env._avg :]
    assert abs(np.mean([r for _, r, *_ in last])) < 0.03
    cl = np.array([info["cl"] for *_, info in out])
    assert max(cl) > 0.5 and min(cl) < -0.5  # the street sheds: the lift swings
    assert all(info["jet"] == 0 for *_, info in out)
    # at the right frequency: the lift's upward zero crossings, interpolated (measured 0.300)
    i = np.flatnonzero((cl[:-1] < 0) & (cl[1:] >= 0))
    crossings = i + cl[i] / (cl[i] - cl[i + 1])
    period = np.diff(crossings).mean() * env.steps_per_action
    strouhal = env.case.ref_length / env.units.dx / env.units.u_lattice / period
    assert len(crossings) >= 4 and 0.295 <= strouhal <= 0.305


def _injected(solver, name: str) -> float:
    """Mass per step the slot's links inject now (the rule the moving-obstacle test checks
    against the mass actually added)."""
    lat = solver.lattice
    for ls in solver.link_sets:
        if ls.name == name:
            c = lat.c[ls.dirs]
            u = np.stack([ls.index["vel_0"], ls.index["vel_1"]], axis=1)
            return float((6 * lat.w[ls.dirs] * -(c * u).sum(axis=1)).sum())
    raise KeyError(name)


def test_jets_are_zero_net_mass_and_their_thrust_is_apart(env):
    s = env.case.solver
    env.reset(seed=1)
    for _ in range(3):
        _, _, _, _, info = env.step(np.ones(1, np.float32))
    top, bottom = _injected(s, "jet_top"), _injected(s, "jet_bottom")
    assert top == pytest.approx(env._q, rel=1e-9)
    # from rest, the jets close the share ``smoothing`` of the gap at each of an action's updates
    updates = 3 * -(-env.steps_per_action // max(env.steps_per_action // 10, 1))
    assert top == pytest.approx(env.q_max * (1 - (1 - env.settings["smoothing"]) ** updates))
    assert top + bottom == pytest.approx(0.0, abs=1e-12)
    assert info["jet"] == pytest.approx(top / env.q_ref) and info["jet"] <= 0.06 + 1e-12
    # the reward's drag is the cylinder's other walls: the slots' force is reported apart
    assert np.isfinite(info["jet_force"]).all() and info["jet_force"] != (0.0, 0.0)
    assert info["cd"] == pytest.approx(env.case.coefficients()["cd"], rel=0.2)


def test_actions_are_clipped_and_nan_refused(env):
    env.reset(seed=2)
    env.step(np.array([5.0], np.float32))  # clipped to 1
    assert env._q <= env.q_max + 1e-12
    with pytest.raises(ValueError, match="one finite number"):
        env.step(np.array([np.nan], np.float32))
    with pytest.raises(ValueError, match="one finite number"):
        env.step(np.array([0.1, 0.2], np.float32))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cells_per_diameter": 10}, "diverges below 14"),
        ({"max_jet": 0.45}, "the LBM turns unstable"),
        ({"max_jet": 0.0}, "max_jet 0.0"),
        ({"re": 1000.0}, "Re 1000"),
        ({"smoothing": 0.0}, "smoothing 0.0"),
        ({"render_mode": "human"}, "render_mode 'human'"),
    ],
)
def test_bad_settings_are_refused_before_running(cache, kwargs, message):
    with pytest.raises(ValueError, match=message):
        CylinderJetsEnv(cache_dir=cache, **kwargs)


def test_a_diverging_solver_ends_the_episode_without_nan(cache):
    e = CylinderJetsEnv(cache_dir=cache, episode_periods=1.0)
    obs, _ = e.reset(seed=4)
    e.case.solver.src[200, 20, :] = np.nan  # a fluid cell downstream
    nxt, reward, terminated, truncated, info = e.step(np.zeros(1, np.float32))
    assert terminated and not truncated and reward == -10.0
    assert "diverged" in info["diverged"] and np.isfinite(nxt).all()
    np.testing.assert_array_equal(nxt, obs)


def test_the_developed_flow_is_saved_once_with_a_checksum(cache):
    files = sorted(cache.glob("cylinder-jets-*.npz"))
    assert len(files) == 1
    again = CylinderJetsEnv(cache_dir=cache)
    assert again.cd0 == pytest.approx(CylinderJetsEnv(cache_dir=cache).cd0)
    assert sorted(cache.glob("cylinder-jets-*.npz")) == files
