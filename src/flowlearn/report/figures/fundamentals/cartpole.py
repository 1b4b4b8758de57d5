"""Figures of cartpole: the learning curve of every seed, and the evaluation returns."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure as MplFigure

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure

MAX_RETURN = 500.0
SOLVED = 475.0


def draw(run: RunRecord) -> list[Figure]:
    return [_curves(run), _evaluation(run)]


def _smooth(y: np.ndarray, n: int) -> np.ndarray:
    if len(y) < n:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    head = c[1:n] / np.arange(1, n)
    return np.concatenate([head, (c[n:] - c[:-n]) / n])


def _curves(run: RunRecord) -> Figure:
    m, a = run.metrics, run.arrays
    fig = MplFigure(figsize=(7, 3.6), layout="constrained")
    ax = fig.subplots()
    for i, r in enumerate(m["runs"]):
        steps, returns = a[f"curve_{i}"]
        ax.plot(steps, returns, ".", ms=1.5, color=f"C{i}", alpha=0.25)
        ax.plot(steps, _smooth(returns, 20), color=f"C{i}", label=f"seed {r['seed']}")
    ax.axhline(MAX_RETURN, color="0.3", ls=":", lw=1, label="maximum (500)")
    ax.axhline(SOLVED, color="C2", ls="--", lw=1, label="solved (475)")
    ax.axhline(m["random"]["mean"], color="C3", ls="--", lw=1, label="random policy")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("episode return")
    ax.set_ylim(0, 1.08 * MAX_RETURN)
    ax.legend(fontsize=7, loc="lower right")
    return Figure(
        "cartpole_curves",
        "PPO's training episodes (dots) and their running mean over 20 episodes, one colour per "
        "seed; training episodes use sampled actions, so they stay below the evaluation returns.",
        fig,
    )


def _evaluation(run: RunRecord) -> Figure:
    m = run.metrics
    fig = MplFigure(figsize=(5, 3), layout="constrained")
    ax = fig.subplots()
    labels = ["random"] + [f"PPO seed {r['seed']}" for r in m["runs"]]
    means = [m["random"]["mean"]] + [r["eval_mean"] for r in m["runs"]]
    stds = [m["random"]["std"]] + [r["eval_std"] for r in m["runs"]]
    colours = ["C3"] + ["C2" if r["eval_mean"] >= SOLVED else "C1" for r in m["runs"]]
    ax.bar(labels, means, yerr=stds, color=colours, capsize=3)
    ax.axhline(SOLVED, color="C2", ls="--", lw=1)
    ax.set_ylabel("evaluation return")
    ax.set_ylim(0, 1.08 * MAX_RETURN)
    ax.tick_params(axis="x", labelsize=7)
    return Figure(
        "cartpole_evaluation",
        "Mean return (bars, spread as error bars) over fresh evaluation episodes with seeds "
        "never used in training, deterministic actions; the dashed line is Gymnasium's "
        "solved threshold.",
        fig,
    )
