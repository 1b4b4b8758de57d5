"""Figures of ``chemistry``, drawn from the run's arrays and metrics only: rolled-out ignitions
against Cantera's, ignition delays network against Cantera, cost against accuracy for both (per
state and per ignition), and the training curves."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure as MplFigure

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure
from flowlearn.report.figures.cfd import _format

#: Errors plotted on log axes are floored here (Cantera at strict tolerance is the reference).
FLOOR = 1e-5


def draw(run: RunRecord) -> list[Figure]:
    out = [f(run) for f in (_ignitions, _delays, _cost_accuracy, _training)]
    return [f for f in out if f is not None]


def _ignitions(run: RunRecord) -> Figure | None:
    a = run.arrays
    if not _format.has(a, "show_t", "show_T_net", "show_T0", "show_steps"):
        return None
    t = np.asarray(a["show_t"]) * 1e3
    fig = MplFigure(figsize=(7.5, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for j, T0 in enumerate(np.asarray(a["show_T0"])):
        n = int(a["show_steps"][j]) + 1
        colour = f"C{j}"
        ax.plot(
            t[:n], a["show_T_net"][:n, j], color=colour, lw=1.6, label=f"T0 {T0:.0f} K: network"
        )
        if "show_T_hybrid" in a:
            ax.plot(
                t[:n],
                a["show_T_hybrid"][:n, j],
                color=colour,
                lw=1.0,
                ls="--",
                label="hybrid" if j == 0 else None,
            )
        key = f"show_ref_t_{j}"
        if key in a:
            ax.plot(
                np.asarray(a[key]) * 1e3,
                a[f"show_ref_T_{j}"],
                color="k",
                lw=0.9,
                ls=":",
                label="Cantera (strict)" if j == 0 else None,
            )
    ax.set_xlim(0, t[int(np.max(a["show_steps"]))])
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("temperature (K)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    m = run.metrics
    return Figure(
        "chemistry_ignitions",
        f"Held-out ignitions of {m.get('mechanism', '?')} rolled out by the network ensemble "
        f"alone (solid), by the hybrid (dashed: Cantera where the ensemble disagrees) and by "
        f"Cantera at strict tolerances (dotted), from the unburnt mixture, steps of "
        f"{run.config.get('dt', float('nan')):g} s.",
        fig,
    )


def _delays(run: RunRecord) -> Figure | None:
    a = run.arrays
    if not _format.has(a, "tau_ref", "tau_net"):
        return None
    fig = MplFigure(figsize=(5.5, 5.0), layout="constrained")
    ax = fig.add_subplot()
    sets = [
        ("tau_ref", "tau_net", "ensemble, held out", "o", "C0"),
        ("tau_ref", "tau_one", "one network, held out", ".", "C1"),
        ("tau_ref_extrapolation", "tau_net_extrapolation", "ensemble, hotter band", "s", "C3"),
    ]
    lo, hi = math.inf, 0.0
    for ref_key, net_key, label, marker, colour in sets:
        if not _format.has(a, ref_key, net_key):
            continue
        ref, net = np.asarray(a[ref_key]) * 1e3, np.asarray(a[net_key]) * 1e3
        ok = np.isfinite(net)
        ax.scatter(ref[ok], net[ok], marker=marker, color=colour, s=22, label=label, zorder=3)
        if (~ok).any():
            ax.scatter(
                ref[~ok],
                np.full((~ok).sum(), ref.max() * 3),
                marker="x",
                color=colour,
                label=f"{label}: no ignition",
            )
        lo, hi = min(lo, ref.min()), max(hi, ref.max())
    if not math.isfinite(lo):
        return None
    xs = np.array([lo / 1.5, hi * 1.5])
    ax.plot(xs, xs, color="k", lw=0.8)
    ax.fill_between(xs, xs * 0.95, xs * 1.05, color="0.85", label="±5 %", zorder=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("ignition delay, Cantera (ms)")
    ax.set_ylabel("ignition delay, network rollout (ms)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    return Figure(
        "chemistry_delays",
        "Ignition delays of the held-out conditions and of the extrapolation band (hotter than "
        "any trained), the network's rollout against Cantera's; the grey band is the issue's "
        "5 % target.",
        fig,
    )


def _err(row: dict, key: str) -> float:
    v = _format.num((row.get(key) or {}).get("mean"))
    return max(v, FLOOR) if np.isfinite(v) else np.nan


def _cost_accuracy(run: RunRecord) -> Figure | None:
    sp = run.metrics.get("speed")
    if not sp or not sp.get("cantera"):
        return None
    rows = sp["cantera"]["rows"]
    fig = MplFigure(figsize=(11, 4.4), layout="constrained")
    axes = fig.subplots(1, 2)
    panels = (
        ("per_state_mean_s", "stepped_tau_error", "per state, one step", 1e6, "µs"),
        ("adaptive_seconds_per_ignition", "adaptive_tau_error", "per ignition", 1e3, "ms"),
    )
    for ax, (cost, error, title, scale, unit) in zip(axes, panels, strict=True):
        x = np.array([r[cost] for r in rows]) * scale
        y = np.array([_err(r, error) for r in rows])
        ok = np.isfinite(y)
        model = sp["cantera"].get("model", "").split(" ")[0]
        ax.plot(x[ok], y[ok], "o-", color="k", label=f"Cantera ({model} reactor), rtol")
        top = max(float(np.nanmax(y)) if ok.any() else FLOOR, FLOOR) * 3
        if (~ok).any():
            ax.scatter(
                x[~ok],
                np.full((~ok).sum(), top),
                marker="x",
                color="k",
                label="Cantera: no ignition (atol drowns the radicals)",
            )
        for xi, yi, r in zip(x, np.where(ok, y, top), rows, strict=True):
            ax.annotate(
                f"{r['rtol']:g}", (xi, yi), fontsize=7, textcoords="offset points", xytext=(3, 3)
            )
        for j, name in enumerate(("ensemble", "one_network")):
            net = sp.get(name)
            if not net:
                continue
            e = max(_format.num(net["tau_error_mean"]), FLOOR)
            if cost == "per_state_mean_s":
                for b, s in net["seconds_per_state"].items():
                    ax.scatter(
                        [s * scale],
                        [e],
                        marker="^" if j == 0 else "v",
                        color=f"C{j}",
                        s=30,
                        label=f"{name.replace('_', ' ')}" if b == "1" else None,
                    )
                    if b in ("1", "1024"):
                        ax.annotate(
                            f"batch {b}",
                            (s * scale, e),
                            fontsize=7,
                            color=f"C{j}",
                            textcoords="offset points",
                            xytext=(-12, -11 - 8 * j),
                        )
            else:
                s = net["per_trajectory"]["network_seconds"]
                ax.scatter(
                    [s * scale],
                    [e],
                    marker="^" if j == 0 else "v",
                    color=f"C{j}",
                    s=30,
                    label=name.replace("_", " "),
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(f"cost ({unit}, one core)")
        ax.set_ylabel("mean ignition-delay error")
        ax.set_title(title, fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    return Figure(
        "chemistry_cost_accuracy",
        "Cost against accuracy on one core. Left, per state (a CFD cell's chemistry over one "
        "step): Cantera with a reused reactor at each tolerance (rtol labelled; its error from "
        "ignitions stepped and reinitialised at every step, as a CFD code calls it) against the "
        "network at batch 1 to 16,384. Right, per ignition: Cantera's adaptive integration "
        "against the network's rollout. Below and left of Cantera's curve, the network pays.",
        fig,
    )


def _training(run: RunRecord) -> Figure | None:
    a = run.arrays
    if not _format.has(a, "curve_train", "curve_val"):
        return None
    fig = MplFigure(figsize=(6, 3.8), layout="constrained")
    ax = fig.add_subplot()
    epochs = np.arange(1, len(a["curve_train"]) + 1)
    ax.plot(epochs, a["curve_train"], label="train")
    ax.plot(epochs, a["curve_val"], label="validation (held-out ignitions)")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE of the normalised increments")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return Figure(
        "chemistry_training",
        "Training of the first ensemble member: loss on the training states and on the "
        "validation ignitions' states.",
        fig,
    )
