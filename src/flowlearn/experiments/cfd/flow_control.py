"""Active flow control by reinforcement learning, the talk's "cherry" asked of a flow: PPO drives
two jets on a cylinder to cut its drag, after Rabault, Kuchta, Jensen, Réglade & Cerardi
(J. Fluid Mech. 865, 2019), on flowlearn's LBM (:mod:`flowlearn.envs.cylinder_jets`).

- **training**: PPO (Stable-Baselines3) on ``flowlearn/CylinderJets-v0`` at Re 100, one process
  per environment, from several seeds (the spread is shown); the learning curve is every
  episode's return;
- **evaluation**, from the developed street, deterministic actions, ``eval_periods`` shedding
  periods: the drag and lift of the uncontrolled flow, of each trained policy, and of the simple
  controllers a study must beat (constant blowing, a sinusoid at the shedding frequency); means
  over the last ``average_periods``. The drag is the force on the cylinder's walls outside the
  slots, so the jets' thrust is not counted;
- **the finer grid**: each trained policy is evaluated again on a grid 1.5 times finer (the
  observations are pressures at the same physical probes): a policy that exploits the coarse
  grid's error is caught there;
- **cost**: seconds per action and per training, against Rabault et al.'s day of training.

The jets relax towards each action with a time constant of about two actions (``smoothing``
0.05), so jets reversed at every action oscillate at about a quarter of their bound. With jets
that reached their target within an action (0.3), the first full run's policies reversed them
about every action at the full bound, raising the lift's fluctuations, and their gain shrank
on the finer grid (README: flow-control).

Run: ``flowlearn run flow-control``.
"""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from flowlearn.envs.cylinder_jets import MIN_CELLS_PER_DIAMETER, CylinderJetsEnv
from flowlearn.evaluation import control as ev
from flowlearn.experiments._base import Claim, Experiment, ExperimentConfig, Result
from flowlearn.experiments._runs import torch_threads
from flowlearn.training.reinforcement import PPOSettings, train_ppo

#: Rabault et al.'s drag reduction, and the target's floor.
RABAULT_REDUCTION = 0.08
TARGET_REDUCTION = 0.05
#: The jets' largest mass flow allowed by the target, a share of the reference.
TARGET_JET = 0.06


class Config(ExperimentConfig):
    # below MIN_CELLS_PER_DIAMETER the uncontrolled flow diverges (measured)
    cells_per_diameter: int = Field(
        16, ge=MIN_CELLS_PER_DIAMETER, le=64, description="the training grid"
    )
    fine_cells_per_diameter: int = Field(
        24, ge=MIN_CELLS_PER_DIAMETER, le=96, description="the re-evaluation grid"
    )
    max_jet: float = Field(0.06, gt=0, le=0.2, description="jets' bound / reference mass flow")
    smoothing: float = Field(
        0.05,
        gt=0,
        le=1,
        description="share of the gap to the action the jets close per tenth "
        "of an action (0.05: a time constant of 2 actions, a sixth of a shedding period)",
    )
    timesteps: int = Field(20_000, ge=64, le=10_000_000, description="PPO actions per seed")
    seeds: int = Field(5, ge=1, le=10)
    n_envs: int = Field(2, ge=1, le=64, description="environments, one process each")
    episode_periods: float = Field(6.0, gt=0, le=100, description="shedding periods an episode")
    eval_periods: float = Field(20.0, gt=2, le=500, description="periods of each evaluation")
    average_periods: float = Field(6.0, gt=0, le=100, description="the last ones averaged")
    n_steps: int = Field(144, ge=8, description="PPO steps per environment per rollout")
    batch_size: int = Field(72, ge=8)
    learning_rate: float = Field(3e-4, gt=0, le=1)
    data_dir: str | None = Field(None, description="where the developed flows are cached")


def _say(text: str) -> None:
    print(text, flush=True)


def check(config: Config) -> None:
    if config.fine_cells_per_diameter <= config.cells_per_diameter:
        raise ValueError(
            f"fine_cells_per_diameter {config.fine_cells_per_diameter} must exceed "
            f"cells_per_diameter {config.cells_per_diameter}"
        )
    if config.average_periods >= config.eval_periods:
        raise ValueError(
            f"average_periods {config.average_periods} must be below eval_periods "
            f"{config.eval_periods}: the control needs time to act first"
        )
    _settings(config, 0)
    cores = os.cpu_count() or 1
    if config.n_envs > cores:
        raise ValueError(
            f"n_envs {config.n_envs}: one process each, no more than this machine's {cores} cores"
        )


def _settings(config: Config, seed: int) -> PPOSettings:
    return PPOSettings(
        timesteps=config.timesteps,
        n_envs=config.n_envs,
        n_steps=config.n_steps,
        batch_size=config.batch_size,
        n_epochs=10,
        gamma=0.99,
        gae_lambda=0.95,
        learning_rate=config.learning_rate,
        linear_decay=False,
        seed=seed,
        subprocess=config.n_envs > 1,
    )


def _factory(config: Config, cpd: int, periods: float | None = None):
    """Environments at ``cpd`` cells per diameter, episodes of ``periods`` (training's)."""
    return functools.partial(
        CylinderJetsEnv,
        cells_per_diameter=cpd,
        max_jet=config.max_jet,
        smoothing=config.smoothing,
        episode_periods=periods or config.episode_periods,
        cache_dir=config.data_dir,
    )


def _evaluate(env: CylinderJetsEnv, controllers: dict, config: Config, arrays: dict, tag: str):
    per_period = env.settings["actions_per_period"]
    n = round(config.eval_periods * per_period)
    last = round(config.average_periods * per_period)
    out = {}
    for name, ctl in controllers.items():
        # the animation: the last two periods without control and with each policy
        film = 2 * per_period if tag == "coarse" and (
            name == "uncontrolled" or name.startswith("ppo_")) else 0  # fmt: skip
        r = ev.rollout(env, ctl, n, seed=config.seed, frames=film)
        if "frames" in r:
            arrays[f"{tag}_{name}_frames"] = r["frames"]
        out[name] = {**ev.summary(r, last, env.cd0, per_period), "diverged": r["diverged"],
                     "seconds_per_action": r["seconds_per_action"]}  # fmt: skip
        for key in ("cd", "cl", "jet"):
            arrays[f"{tag}_{name}_{key}"] = r[key]
        if env.render_mode == "rgb_array":
            arrays[f"{tag}_{name}_wake"] = env.render()
        s = out[name]
        _say(f"  {tag} {name}: C_D {s['cd']:.3f} ({100 * s['reduction']:+.1f} %), lift std "
             f"{s['cl_std']:.3f}, jets {100 * s['jet_mean']:.2f} % of the reference, reversing "
             f"{s['jet_reversals']:.1f} times a period"
             + (f"; {r['diverged']}" if r["diverged"] else ""))  # fmt: skip
    return out


def run(config: Config, run_dir: Path) -> Result:
    start = time.perf_counter()
    make = _factory(config, config.cells_per_diameter)
    # develops (or finds) the street before the workers start; evaluates afterwards
    env = _factory(config, config.cells_per_diameter, config.eval_periods)(render_mode="rgb_array")
    m: dict[str, Any] = {"cd0": env.cd0, "actions_per_period": env.settings["actions_per_period"],
                         "steps_per_action": env.steps_per_action, "runs": []}  # fmt: skip
    _say(f"flow-control: uncontrolled C_D {env.cd0:.3f} on {env.case.solver.grid}, "
         f"{env.steps_per_action} LBM steps an action")  # fmt: skip
    arrays: dict[str, np.ndarray] = {}
    policies = {}
    for i in range(config.seeds):
        seed = config.seed + i
        with torch_threads(1):
            t = train_ppo(make, _settings(config, seed), _say, f"seed {seed}",
                          run_dir / "weights" / f"ppo-seed{seed}.safetensors")  # fmt: skip
        policies[f"ppo_seed{seed}"] = ev.policy_controller(t.model)
        arrays[f"curve_{i}"] = np.stack([t.timesteps, t.returns])
        n = len(t.returns)
        m["runs"].append({"seed": seed, "train_seconds": t.seconds, "episodes": n,
                          "first_return": float(t.returns[: max(n // 10, 1)].mean()),
                          "last_return": float(t.returns[-max(n // 10, 1) :].mean())})  # fmt: skip
    controllers = {
        "uncontrolled": ev.constant(0.0),
        "constant": ev.constant(0.5),
        "sinusoid": ev.sinusoid(1.0, env.settings["actions_per_period"]),
        **policies,
    }
    with torch_threads(1):
        m["coarse"] = _evaluate(env, controllers, config, arrays, "coarse")
        fine = _factory(config, config.fine_cells_per_diameter, config.eval_periods)(
            render_mode="rgb_array"
        )
        m["cd0_fine"] = fine.cd0
        m["fine"] = _evaluate(fine, {"uncontrolled": controllers["uncontrolled"], **policies},
                              config, arrays, "fine")  # fmt: skip
    m["seconds_per_action"] = m["coarse"]["uncontrolled"]["seconds_per_action"]
    m["seconds"] = time.perf_counter() - start
    return Result(metrics=m, claims=claims(config, m), arrays=arrays)


def _with_slots(results: dict, names: list[str]) -> list[float]:
    """Drag reductions with the slots' force added to the walls' (jet thrust counted)."""
    base = results["uncontrolled"]["cd_with_slots"]
    return [1 - results[k]["cd_with_slots"] / base for k in names]


def _policies(m: dict) -> list[str]:
    return [k for k in m["coarse"] if k.startswith("ppo_")]


def claims(config: Config, m: dict) -> list[Claim]:
    names = _policies(m)
    coarse, fine = m["coarse"], m["fine"]
    red = [coarse[k]["reduction"] for k in names]
    red_fine = [fine[k]["reduction"] for k in names]
    jets = [coarse[k]["jet_mean"] for k in names]
    holds = all(
        np.isfinite(r) and np.isfinite(f) and r >= TARGET_REDUCTION and f >= TARGET_REDUCTION
        and j <= TARGET_JET
        for r, f, j in zip(red, red_fine, jets, strict=True)
    )  # fmt: skip
    pct = ", ".join(f"{100 * r:+.1f} %" for r in red)
    pct_fine = ", ".join(f"{100 * r:+.1f} %" for r in red_fine)
    best_simple = max(coarse["constant"]["reduction"], coarse["sinusoid"]["reduction"])
    rises = [r["last_return"] > r["first_return"] for r in m["runs"]]
    return [
        Claim(
            slide="Reinforcement learning on a flow: jets that cut a cylinder's drag",
            talk=f"about {100 * RABAULT_REDUCTION:.0f} % less drag at Re 100, the street calmed "
            "by jets of about 0.5 % of the flow (Rabault et al. 2019)",
            measured=f"drag reduction per seed {pct} on {config.cells_per_diameter} cells per "
            f"diameter, {pct_fine} on {config.fine_cells_per_diameter}; jets "
            + ", ".join(f"{100 * j:.2f} %" for j in jets)
            + " of the reference mass flow, reversing "
            + ", ".join(f"{coarse[k]['jet_reversals']:.1f}" for k in names)
            + " times a shedding period; lift std "
            + ", ".join(f"{coarse[k]['cl_std']:.2f}" for k in names)
            + f" (uncontrolled {coarse['uncontrolled']['cl_std']:.2f}, C_D {m['cd0']:.3f}); "
            "with the slots' own force counted (jet thrust included): "
            + ", ".join(f"{100 * r:+.1f} %" for r in _with_slots(coarse, names)),
            reproduced=bool(holds),
            reason=f"reproduced when every seed's policy cuts the mean drag (the cylinder's walls "
            f"outside the slots, the last {config.average_periods:g} of "
            f"{config.eval_periods:g} periods) by at least {100 * TARGET_REDUCTION:.0f} % on "
            f"both grids, with jets below {100 * TARGET_JET:.0f} % of the reference mass flow.",
        ),
        Claim(
            slide="Learned control against the simple controllers",
            talk="(a learned policy must beat what an engineer would try first)",
            measured=f"best policy {100 * max(red):+.1f} %; constant blowing "
            f"{100 * coarse['constant']['reduction']:+.1f} %, a sinusoid at the shedding "
            f"frequency {100 * coarse['sinusoid']['reduction']:+.1f} %",
            reproduced=bool(min(red) > best_simple),
            reason="reproduced when every seed's policy cuts the drag more than constant "
            "blowing and than the sinusoid, on the training grid.",
        ),
        Claim(
            slide="Learning by trial and error (the flow)",
            talk="the return rises as the agent plays",
            measured="; ".join(
                f"seed {r['seed']}: first tenth of the episodes {r['first_return']:.2f}, last "
                f"tenth {r['last_return']:.2f} ({r['episodes']} episodes)"
                for r in m["runs"]
            ),
            reproduced=all(rises),
            reason="reproduced when the last tenth of the training episodes' return is above "
            "the first tenth's for every seed.",
        ),
    ]


EXPERIMENT = Experiment(
    name="flow-control",
    title="Reinforcement learning on a flow: jets that cut a cylinder's drag",
    claim="An agent learns to reduce a cylinder's drag with jets (Rabault et al. 2019).",
    order=260,
    config=Config,
    run=run,
    check=check,
    quick={
        "timesteps": 2304,
        "seeds": 1,
        "eval_periods": 6.0,
        "average_periods": 2.0,
        "episode_periods": 2.0,
        "n_steps": 48,
        "batch_size": 48,
    },
    # measured on 2 CPU cores: full 19.4 min (5 seeds), quick 47-58 s with the developed flows
    # cached (a few seconds more to make them)
    runtime_quick="~1 min",
    runtime_full="~20 min",
    claims=claims,
)
