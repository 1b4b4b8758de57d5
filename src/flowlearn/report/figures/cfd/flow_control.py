"""Figures of flow-control: the learning curves, the drag, lift and jets of every controller in
time, and the wake with and without control."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure as MplFigure

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure


def draw(run: RunRecord) -> list[Figure]:
    out = [_curves(run), _histories(run)]
    for extra in (_wakes(run), _animation(run)):
        if extra is not None:
            out.append(extra)
    return out


def _animation(run: RunRecord) -> Figure | None:
    """The wake without control above the wake under each policy, two periods, as a GIF."""
    a = run.arrays
    policies = sorted(k for k in a if k.startswith("coarse_ppo_") and k.endswith("_frames"))
    keys = ["coarse_uncontrolled_frames", *policies]
    if keys[0] not in a or len(keys) < 2:
        return None
    films = [a[k] for k in keys]
    t = min(len(f) for f in films)
    gap = np.full((t, 2, films[0].shape[2], 3), 255, np.uint8)
    parts = []
    for f in films:
        parts += [f[:t], gap]
    frames = np.concatenate(parts[:-1], axis=1)
    names = ", ".join(k.removeprefix("coarse_").removesuffix("_frames") for k in keys[1:])
    return Figure(
        "flow_control_animation",
        f"The vorticity over the last two evaluated shedding periods: without control (top), "
        f"then with each policy ({names}), on the training grid.",
        MplFigure(),
        frames=frames,
        fps=6,
    )


def _curves(run: RunRecord) -> Figure:
    m, a = run.metrics, run.arrays
    fig = MplFigure(figsize=(7, 3.4), layout="constrained")
    ax = fig.subplots()
    for i, r in enumerate(m["runs"]):
        steps, returns = a[f"curve_{i}"]
        ax.plot(steps, returns, ".-", ms=3, lw=0.8, color=f"C{i}", label=f"seed {r['seed']}")
    ax.axhline(0, color="k", lw=0.8, ls="--", label="uncontrolled (about 0)")
    ax.set(xlabel="actions taken (all environments)", ylabel="episode return")
    ax.legend(fontsize=7)
    return Figure(
        "flow_control_curves",
        "PPO's training episodes: each episode's return (the drag saved against the "
        "uncontrolled flow, minus 0.2 |lift|, summed over its actions), one colour per seed.",
        fig,
    )


def _histories(run: RunRecord) -> Figure:
    m, a = run.metrics, run.arrays
    names = list(m["coarse"])
    per = m["actions_per_period"]
    fig = MplFigure(figsize=(9, 6.5), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    for j, name in enumerate(names):
        cd = a.get(f"coarse_{name}_cd")
        if cd is None or not len(cd):
            continue
        t = np.arange(len(cd)) / per
        style = {"color": "k", "lw": 1.6} if name == "uncontrolled" else {"color": f"C{j}", "lw": 1}
        axes[0].plot(t, cd, label=name, **style)
        axes[1].plot(t, a[f"coarse_{name}_cl"], **style)
        axes[2].plot(t, 100 * a[f"coarse_{name}_jet"], **style)
    axes[0].set_ylabel("drag C_D")
    axes[1].set_ylabel("lift C_L")
    axes[2].set_ylabel("top jet, % of Q_ref")
    axes[2].set_xlabel("shedding periods from the developed street")
    axes[0].legend(fontsize=7, ncol=3)
    return Figure(
        "flow_control_histories",
        "Drag (the cylinder's walls outside the slots), lift and the top jet's mass flow (the "
        "bottom one is its opposite) of each controller on the training grid, from the "
        "developed vortex street; the means are taken over the last periods.",
        fig,
    )


def _wakes(run: RunRecord) -> Figure | None:
    a, m = run.arrays, run.metrics
    policies = [k for k in m["coarse"] if k.startswith("ppo_")]
    if not policies:
        return None
    # the policy of median drag reduction on the training grid: representative, not the best
    red = [m["coarse"][k]["reduction"] for k in policies]
    median = policies[int(np.argsort(np.nan_to_num(red, nan=-np.inf))[(len(red) - 1) // 2])]
    pairs = [(f"{tag}_{n}_wake", f"{tag}: {n}") for tag in ("coarse", "fine")
             for n in ("uncontrolled", median) if f"{tag}_{n}_wake" in a]  # fmt: skip
    if not pairs:
        return None
    fig = MplFigure(figsize=(9, 1.6 * len(pairs) + 0.3), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(pairs), 1))
    for ax, (key, title) in zip(axes, pairs, strict=True):
        ax.imshow(a[key])
        ax.set_title(title, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    return Figure(
        "flow_control_wakes",
        "The vorticity at the end of each evaluation (red and blue: opposite senses), without "
        f"control and with the policy of median drag reduction ({median}), on the training grid "
        "and on the finer one; the animation shows every policy.",
        fig,
    )
