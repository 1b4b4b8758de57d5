"""Controllers of a flow-control environment run and measured: the drag and lift histories of an
episode, their means over the last shedding periods, the jets' mass flow used.

A controller is ``f(observation, k) -> action`` (``k`` the action's index): a trained policy
(:func:`policy_controller`), or the simple ones every study should beat (:func:`constant`,
:func:`sinusoid`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

Controller = Callable[[np.ndarray, int], np.ndarray]


def constant(value: float) -> Controller:
    """The same action throughout (``0``: no control)."""

    def act(obs: np.ndarray, k: int) -> np.ndarray:
        return np.array([value], np.float32)

    return act


def sinusoid(amplitude: float, actions_per_period: int) -> Controller:
    """Open-loop forcing at the shedding frequency: ``amplitude sin(2 pi k / n)``."""

    def act(obs: np.ndarray, k: int) -> np.ndarray:
        return np.array([amplitude * np.sin(2 * np.pi * k / actions_per_period)], np.float32)

    return act


def policy_controller(model: Any) -> Controller:
    """A trained Stable-Baselines3 policy, its deterministic (mean) action."""

    def act(obs: np.ndarray, k: int) -> np.ndarray:
        action, _ = model.predict(obs, deterministic=True)
        return np.asarray(action, np.float32).reshape(1)

    return act


def rollout(
    env: Any, controller: Controller, actions: int, seed: int, frames: int = 0
) -> dict[str, Any]:
    """``actions`` steps of ``controller`` on ``env`` (reset with ``seed``; fewer if its episode
    ends first): per action the drag ``cd`` and lift ``cl`` (means over the action), the jet
    ``jet`` (mass flow / reference), the reward, the slots' own drag ``slot_cd`` (jet momentum
    included); ``diverged`` (a message, or ``""``) and the seconds per action; with ``frames``,
    ``env.render()`` after each of the last ``frames`` actions (``frames``: ``(T, H, W, 3)``)."""
    obs, _ = env.reset(seed=seed)
    rows: dict[str, list[float]] = {"cd": [], "cl": [], "jet": [], "reward": [], "slot_cd": []}
    diverged = ""
    images = []
    start = time.perf_counter()
    for k in range(actions):
        obs, reward, terminated, truncated, info = env.step(controller(obs, k))
        if "diverged" in info:
            diverged = info["diverged"]
            break
        for key in ("cd", "cl", "jet"):
            rows[key].append(float(info[key]))
        rows["reward"].append(float(reward))
        rows["slot_cd"].append(float(info["jet_force"][0]))
        if frames and k >= actions - frames:
            images.append(env.render())
        if terminated or truncated:
            break
    seconds = (time.perf_counter() - start) / max(len(rows["cd"]), 1)
    out: dict[str, Any] = {k: np.array(v) for k, v in rows.items()}
    out.update(diverged=diverged, seconds_per_action=seconds)
    if images:
        out["frames"] = np.stack(images)
    return out


def summary(
    run: dict[str, Any], last: int, cd0: float, actions_per_period: int
) -> dict[str, float]:
    """Means over the ``last`` actions: drag, its reduction against ``cd0`` (a share), the
    lift's mean and standard deviation, the jets' mean and largest ``|mass flow| / reference``,
    how often the jets reverse (``jet_reversals``: sign changes per shedding period; a jet
    following the shedding reverses twice, one switching every action ``actions_per_period``
    times), and the drag with the slots' own force added (``cd_with_slots``: the jets' thrust
    counted)."""
    if run["diverged"] or len(run["cd"]) < last:
        nan = float("nan")
        return {"cd": nan, "reduction": nan, "cl_mean": nan, "cl_std": nan, "jet_mean": nan,
                "jet_max": nan, "jet_reversals": nan, "cd_with_slots": nan}  # fmt: skip
    cd, cl, jet, slot = (np.asarray(run[k][-last:]) for k in ("cd", "cl", "jet", "slot_cd"))
    sign = np.sign(jet[jet != 0])
    reversals = np.count_nonzero(sign[1:] != sign[:-1]) * actions_per_period / last
    return {
        "cd": float(cd.mean()),
        "reduction": float(1 - cd.mean() / cd0),
        "cl_mean": float(cl.mean()),
        "cl_std": float(cl.std()),
        "jet_mean": float(np.abs(jet).mean()),
        "jet_max": float(np.abs(jet).max()),
        "jet_reversals": float(reversals),
        "cd_with_slots": float((cd + slot).mean()),
    }
