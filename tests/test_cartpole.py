"""``cartpole`` and the PPO training under it: the random policy's known return, PPO learning
on a small budget, weights saved without pickles and loaded back into a policy that acts the
same, bad settings refused."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from flowlearn.training import load_checkpoint
from flowlearn.training.reinforcement import PPOSettings, evaluate, train_ppo


def _cartpole() -> gym.Env:
    return gym.make("CartPole-v1")


def test_a_random_policy_scores_about_22_on_cartpole():
    # A uniformly random policy keeps the pole up ~22 steps on average (well documented)
    returns = evaluate(None, _cartpole, 200)
    assert 17 < returns.mean() < 28
    assert returns.max() < 200


def test_ppo_learns_cartpole_and_its_weights_reload(tmp_path):
    settings = PPOSettings(timesteps=12_288, seed=1)
    weights = tmp_path / "ppo.safetensors"
    t = train_ppo(_cartpole, settings, weights=weights)
    first, last = t.returns[:20].mean(), t.returns[-20:].mean()
    assert last > 3 * first and last > 80, (first, last)
    assert t.timesteps[-1] <= settings.timesteps and np.all(np.diff(t.timesteps) >= 0)
    # greedy evaluation on seeds not used in training is far above random
    assert evaluate(t.model, _cartpole, 5).mean() > 100

    # the safetensors weights rebuild a policy that acts identically
    ckpt = load_checkpoint(weights)
    assert ckpt.config["algorithm"] == "PPO" and ckpt.config["timesteps"] == 12_288
    fresh = train_ppo(_cartpole, PPOSettings(timesteps=256, seed=2)).model
    fresh.policy.load_state_dict(ckpt.state_dict)
    obs = np.random.default_rng(0).normal(0, 0.1, (50, 4)).astype(np.float32)
    a1, _ = t.model.predict(obs, deterministic=True)
    a2, _ = fresh.predict(obs, deterministic=True)
    np.testing.assert_array_equal(a1, a2)
    with torch.no_grad():
        assert all(
            torch.equal(p, q)
            for p, q in zip(t.model.policy.parameters(), fresh.policy.parameters(), strict=True)
        )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"timesteps": 100}, "less than one rollout"),
        ({"batch_size": 100}, "not a multiple of the batch size 100"),
    ],
)
def test_bad_ppo_settings_are_refused(values, message):
    with pytest.raises(ValueError, match=message):
        PPOSettings(**values)


@pytest.mark.parametrize(
    ("sets", "message"),
    [(["seeds=0"], "seeds"), (["timesteps=10"], "timesteps"), (["n_envs=0"], "n_envs")],
)
def test_bad_config_exits_2_before_running(tmp_path, sets, message):
    from conftest import refused_before_running

    assert message in refused_before_running(tmp_path, "cartpole", sets)
