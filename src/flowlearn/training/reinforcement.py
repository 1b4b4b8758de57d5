"""Reinforcement learning with Stable-Baselines3's PPO (Schulman et al. 2017): a policy trained
on vectorised Gymnasium environments, its learning curve recorded episode by episode, progress
printed, and the policy's weights saved as safetensors (SB3's own ``.zip`` pickles Python
objects; flowlearn never loads pickles).

Typical use::

    from flowlearn.training.reinforcement import PPOSettings, train_ppo, evaluate

    trained = train_ppo(lambda: gymnasium.make("CartPole-v1"), PPOSettings(), say=print)
    mean, std = evaluate(trained.model, lambda: gymnasium.make("CartPole-v1"), episodes=20)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv, VecMonitor

from flowlearn.training._checkpoint import save_weights

EnvFactory = Callable[[], gym.Env]


@dataclass(frozen=True)
class PPOSettings:
    """PPO's hyperparameters (SB3's names). The defaults are RL Baselines3 Zoo's tuned ones for
    CartPole-v1 (8 environments, 32 steps each per rollout, 20 epochs, a learning rate and clip
    range decaying linearly to 0)."""

    timesteps: int = 100_000
    n_envs: int = 8
    n_steps: int = 32
    batch_size: int = 256
    n_epochs: int = 20
    gamma: float = 0.98
    gae_lambda: float = 0.8
    learning_rate: float = 1e-3
    clip_range: float = 0.2
    ent_coef: float = 0.0
    linear_decay: bool = True
    net_arch: tuple[int, ...] = (64, 64)
    seed: int = 0
    subprocess: bool = False  # one process per environment (for costly ones, such as the LBM)

    def __post_init__(self) -> None:
        if self.timesteps < self.n_envs * self.n_steps:
            raise ValueError(
                f"timesteps {self.timesteps} is less than one rollout "
                f"({self.n_envs} environments x {self.n_steps} steps)"
            )
        if (self.n_envs * self.n_steps) % self.batch_size:
            raise ValueError(
                f"a rollout of {self.n_envs * self.n_steps} steps is not a multiple of the "
                f"batch size {self.batch_size}"
            )


@dataclass
class Trained:
    """A trained PPO model, its learning curve (``timesteps`` at which each training episode
    ended, its ``returns`` and ``lengths``) and the seconds it took."""

    model: PPO
    timesteps: np.ndarray
    returns: np.ndarray
    lengths: np.ndarray
    seconds: float


class _Curve(BaseCallback):
    """Collects every finished episode's return and prints progress every ``every`` steps."""

    def __init__(self, total: int, say: Callable[[str], None] | None, label: str) -> None:
        super().__init__()
        self.total, self.say, self.label = total, say, label
        self.every = max(total // 10, 1)
        self.next = self.every
        self.rows: list[tuple[int, float, int]] = []

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", ()):
            ep = info.get("episode")
            if ep is not None:
                self.rows.append((self.num_timesteps, float(ep["r"]), int(ep["l"])))
        if self.say is not None and self.num_timesteps >= self.next:
            recent = [r for _, r, _ in self.rows[-20:]]
            mean = f"{np.mean(recent):.1f}" if recent else "-"
            self.say(
                f"  {self.label}: {self.num_timesteps}/{self.total} steps, "
                f"{len(self.rows)} episodes, recent return {mean}"
            )
            self.next += self.every
        return True


def make_vec_env(factory: EnvFactory, n: int, seed: int, subprocess: bool = False) -> VecEnv:
    """``n`` copies of ``factory``'s environment, seeded ``seed``, ``seed + 1``, ..., episode
    statistics recorded. ``subprocess``: one process each (worth it when a step is costly)."""
    if n < 1:
        raise ValueError(f"n_envs {n}: at least 1")
    vec = SubprocVecEnv([factory] * n) if subprocess else DummyVecEnv([factory] * n)
    vec.seed(seed)
    return VecMonitor(vec)


def _jsonable(settings: PPOSettings) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in vars(settings).items()}


def _linear(start: float) -> Callable[[float], float]:
    def schedule(progress_remaining: float) -> float:
        return progress_remaining * start

    return schedule


def train_ppo(
    factory: EnvFactory,
    settings: PPOSettings,
    say: Callable[[str], None] | None = None,
    label: str = "ppo",
    weights: Path | None = None,
) -> Trained:
    """PPO trained for ``settings.timesteps`` on ``settings.n_envs`` copies of ``factory``'s
    environment; its policy's weights written to ``weights`` (safetensors) if given."""
    env = make_vec_env(factory, settings.n_envs, settings.seed, settings.subprocess)
    lr, clip = settings.learning_rate, settings.clip_range
    model = PPO(
        "MlpPolicy",
        env,
        n_steps=settings.n_steps,
        batch_size=settings.batch_size,
        n_epochs=settings.n_epochs,
        gamma=settings.gamma,
        gae_lambda=settings.gae_lambda,
        learning_rate=_linear(lr) if settings.linear_decay else lr,
        clip_range=_linear(clip) if settings.linear_decay else clip,
        ent_coef=settings.ent_coef,
        policy_kwargs={"net_arch": list(settings.net_arch)},
        seed=settings.seed,
        device="cpu",
        verbose=0,
    )
    curve = _Curve(settings.timesteps, say, label)
    start = time.perf_counter()
    try:
        model.learn(total_timesteps=settings.timesteps, callback=curve)
    finally:
        env.close()
    seconds = time.perf_counter() - start
    if weights is not None:
        save_weights(weights, model.policy, config={"algorithm": "PPO", **_jsonable(settings)})
    rows = np.array(curve.rows, dtype=float).reshape(-1, 3)
    return Trained(model, rows[:, 0].astype(int), rows[:, 1], rows[:, 2].astype(int), seconds)


def evaluate(
    policy: PPO | None,
    factory: EnvFactory,
    episodes: int,
    seed: int = 10_000,
    deterministic: bool = True,
) -> np.ndarray:
    """The returns of ``episodes`` episodes of ``policy`` (``None``: uniformly random actions)
    on fresh environments seeded ``seed``, ``seed + 1``, ... (not the training seeds)."""
    env = factory()
    out = []
    try:
        env.action_space.seed(seed)
        for i in range(episodes):
            obs, _ = env.reset(seed=seed + i)
            total, done = 0.0, False
            while not done:
                if policy is None:
                    action = env.action_space.sample()
                else:
                    action, _ = policy.predict(obs, deterministic=deterministic)
                obs, reward, terminated, truncated, _ = env.step(action)
                total += float(reward)
                done = terminated or truncated
            out.append(total)
    finally:
        env.close()
    return np.array(out)
