"""Reinforcement learning, the talk's "cherry on the cake": an agent that learns by trial and
error, here PPO (Schulman et al. 2017, Stable-Baselines3) balancing Gymnasium's CartPole-v1.

- **task**: push a cart left or right to keep a pole upright; +1 per step, the episode ends when
  the pole falls past 12 degrees, the cart leaves the track, or after 500 steps (the maximum
  return). Gymnasium counts the task solved at a mean return of 475;
- **agent**: PPO with RL Baselines3 Zoo's tuned CartPole hyperparameters
  (:class:`flowlearn.training.reinforcement.PPOSettings`), trained from several seeds, one thread
  each, so the spread between seeds is seen (RL results vary much more with the seed than
  supervised ones);
- **measured**: the learning curve (every training episode's return against the steps taken),
  and each trained policy's return over fresh evaluation episodes (deterministic actions,
  seeds never used in training), beside a random policy's.

Run: ``flowlearn run cartpole``.
"""

from __future__ import annotations

import time
from pathlib import Path

import gymnasium as gym
import numpy as np
from pydantic import Field

from flowlearn.experiments._base import Claim, Experiment, ExperimentConfig, Result
from flowlearn.experiments._runs import torch_threads
from flowlearn.training.reinforcement import PPOSettings, evaluate, train_ppo

ENV_ID = "CartPole-v1"
#: Gymnasium's reward threshold of CartPole-v1 (``env.spec.reward_threshold``).
SOLVED = 475.0
MAX_RETURN = 500.0
#: "The curve rises": the last tenth of the training episodes' mean return is at least this
#: factor of the random policy's.
RISE_FACTOR = 3.0


class Config(ExperimentConfig):
    timesteps: int = Field(100_000, ge=256, le=10_000_000, description="PPO steps per seed")
    seeds: int = Field(5, ge=1, le=20, description="training runs from seeds seed, seed+1, ...")
    n_envs: int = Field(8, ge=1, le=64, description="environments stepped together")
    eval_episodes: int = Field(20, ge=1, le=1000, description="evaluation episodes per policy")


def _say(text: str) -> None:
    print(text, flush=True)


def _env() -> gym.Env:
    return gym.make(ENV_ID)


def check(config: Config) -> None:
    PPOSettings(timesteps=config.timesteps, n_envs=config.n_envs, batch_size=config.n_envs * 32)


def run(config: Config, run_dir: Path) -> Result:
    start = time.perf_counter()
    random_returns = evaluate(None, _env, config.eval_episodes)
    _say(
        f"cartpole: random policy {random_returns.mean():.1f} over {config.eval_episodes} episodes"
    )
    m: dict = {"random": {"mean": float(random_returns.mean()), "std": float(random_returns.std())}}
    arrays: dict[str, np.ndarray] = {}
    runs = []
    for i in range(config.seeds):
        seed = config.seed + i
        settings = PPOSettings(
            timesteps=config.timesteps,
            n_envs=config.n_envs,
            batch_size=config.n_envs * 32,
            seed=seed,
        )
        with torch_threads(1):
            t = train_ppo(_env, settings, _say, f"seed {seed}",
                          run_dir / "weights" / f"ppo-seed{seed}.safetensors")  # fmt: skip
            returns = evaluate(t.model, _env, config.eval_episodes)
        tail = t.returns[-max(len(t.returns) // 10, 1) :]
        runs.append({
            "seed": seed,
            "eval_mean": float(returns.mean()),
            "eval_std": float(returns.std()),
            "eval_min": float(returns.min()),
            "episodes": len(t.returns),
            "first_return": float(t.returns[: max(len(t.returns) // 10, 1)].mean()),
            "last_return": float(tail.mean()),
            "train_seconds": t.seconds,
            "steps_per_second": config.timesteps / t.seconds,
        })  # fmt: skip
        arrays[f"curve_{i}"] = np.stack([t.timesteps, t.returns])
        _say(f"  seed {seed}: evaluation return {returns.mean():.1f} +- {returns.std():.1f} "
             f"after {t.seconds:.0f} s")  # fmt: skip
    m["runs"] = runs
    evals = np.array([r["eval_mean"] for r in runs])
    m["eval_mean"], m["eval_spread"] = float(evals.mean()), float(evals.std())
    m["solved_seeds"] = int((evals >= SOLVED).sum())
    m["seconds"] = time.perf_counter() - start
    return Result(metrics=m, claims=claims(config, m), arrays=arrays)


def claims(config: Config, m: dict) -> list[Claim]:
    runs, rnd = m["runs"], m["random"]["mean"]
    evals = ", ".join(f"{r['eval_mean']:.0f}" for r in runs)
    rises = [r["last_return"] >= RISE_FACTOR * rnd for r in runs]
    return [
        Claim(
            slide="Reinforcement learning: the cherry on the cake (CartPole)",
            talk=f"an agent learns to balance the pole (the maximum return is {MAX_RETURN:.0f})",
            measured=f"evaluation return per seed {evals} (mean {m['eval_mean']:.0f} +- "
            f"{m['eval_spread']:.0f} over {len(runs)} seeds, {config.timesteps} steps each); "
            f"random policy {rnd:.0f}",
            reproduced=all(r["eval_mean"] >= SOLVED for r in runs),
            reason=f"reproduced when every seed's policy averages at least {SOLVED:.0f} "
            "(Gymnasium's threshold for CartPole-v1) over fresh evaluation episodes.",
        ),
        Claim(
            slide="Learning by trial and error",
            talk="the return rises as the agent plays",
            measured="; ".join(
                f"seed {r['seed']}: first tenth of the episodes {r['first_return']:.0f}, "
                f"last tenth {r['last_return']:.0f}"
                for r in runs
            )
            + f" (random {rnd:.0f})",
            reproduced=all(rises),
            reason=f"reproduced when, for every seed, the last tenth of the training episodes "
            f"averages at least {RISE_FACTOR:g} times the random policy's return.",
        ),
    ]


EXPERIMENT = Experiment(
    name="cartpole",
    title="Reinforcement learning: PPO balances CartPole",
    claim="An agent learns a control task by trial and error.",
    order=130,
    config=Config,
    run=run,
    check=check,
    quick={"timesteps": 30_000, "seeds": 2, "eval_episodes": 10},
    # measured on 2 CPU cores: full 4.1 min (5 seeds of 100,000 steps), quick 20 s
    runtime_quick="~30 s",
    runtime_full="~4 min",
    claims=claims,
)
