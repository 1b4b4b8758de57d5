"""Figures of ``rom-comparison``, drawn from the run's arrays and metrics only: the modes side by
side, the error against the number of modes / latents, the invariance tests, the error's
spectrum along the wake, the forecast, and a frame strip of the wake and its reconstructions."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure as MplFigure

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure
from flowlearn.report.figures.cfd import _format
from flowlearn.report.panels import body_cmap, field_panel

COLOURS = {"pod": "C0", "dmd": "C2", "ae": "C3", "md": "C1"}
NAMES = {"pod": "POD", "dmd": "DMD", "ae": "autoencoder", "md": "mode-decomposing AE"}


def draw(run: RunRecord) -> list[Figure]:
    out = [f(run) for f in (_modes, _errors, _invariance, _spectrum, _forecast, _frames)]
    return [f for f in out if f is not None]


def _panel(ax, data: np.ndarray, mask: np.ndarray, title: str) -> None:
    lim = float(np.nanmax(np.abs(data[~mask]))) if (~mask).any() else 1.0
    field_panel(ax, data, mask, body_cmap("RdBu_r"), -(lim or 1.0), lim or 1.0)
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])


def _modes(run: RunRecord) -> Figure | None:
    a = run.arrays
    if not _format.has(a, "pod_modes", "md_modes", "mask"):
        return None
    pod, md = np.asarray(a["pod_modes"]), np.asarray(a["md_modes"])
    mask = np.asarray(a["mask"], bool)
    rows = max(len(pod), len(md))
    fig = MplFigure(figsize=(11, 1.6 * rows + 0.4), layout="constrained")
    axes = fig.subplots(rows, 2, squeeze=False)
    for r in range(rows):
        for c, (modes, name) in enumerate(((pod, "POD mode"), (md, "mode-decomposing AE, latent"))):
            ax = axes[r, c]
            if r < len(modes):
                _panel(ax, modes[r][1], mask, f"{name} {r + 1}: v")
            else:
                ax.axis("off")
    return Figure(
        "rom_modes",
        "The modes side by side (v component): POD's first modes (left) and the fields of the "
        "mode-decomposing autoencoder's two decoders (right, Murata et al. 2020), each decoded "
        "from the first training snapshot's latent.",
        fig,
    )


def _errors(run: RunRecord) -> Figure | None:
    e = run.metrics.get("errors")
    if not e:
        return None
    fig = MplFigure(figsize=(6.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for method in ("pod", "dmd", "ae"):
        ranks = sorted(int(k) for k in e[method])
        ax.plot(ranks, [100 * e[method][str(k)] for k in ranks], marker="o",
                color=COLOURS[method], label=NAMES[method])  # fmt: skip
    if run.metrics.get("md_ae_error") is not None:
        ax.scatter([2], [100 * run.metrics["md_ae_error"]], marker="*", s=120,
                   color=COLOURS["md"], label=NAMES["md"] + " (2 latents)", zorder=5)  # fmt: skip
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("modes / latents")
    ax.set_ylabel("relative error of the fluctuations, test snapshots (%)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return Figure(
        "rom_errors",
        "Reconstruction error of the unseen later snapshots against the number of modes or "
        "latents (the slide's multi-scale cell).",
        fig,
    )


def _invariance(run: RunRecord) -> Figure | None:
    inv = run.metrics.get("invariance")
    if not inv:
        return None
    tests = list(inv)
    methods = [("pod", "POD"), ("pod_augmented", "POD, augmented"), ("ae", "autoencoder"),
               ("ae_augmented", "autoencoder, augmented")]  # fmt: skip
    fig = MplFigure(figsize=(9, 4.2), layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / len(methods)
    for k, (key, label) in enumerate(methods):
        x = np.arange(len(tests)) + (k - (len(methods) - 1) / 2) * width
        ax.bar(x, [100 * inv[t][key] for t in tests], width, label=label,
               color=f"C{[0, 0, 3, 3][k]}", alpha=[1.0, 0.5, 1.0, 0.5][k])  # fmt: skip
    ax.set_xticks(np.arange(len(tests)), tests)
    ax.set_ylabel("relative error of the fluctuations (%)")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return Figure(
        "rom_invariance",
        f"Invariance, {run.metrics.get('invariance_rank')} modes / latents: each method fitted "
        "on the unmoved wake (solid) or with the shifted, mirrored and zoomed snapshots added "
        "(light), tested on the moved test snapshots and on the wake at the other Reynolds "
        "number.",
        fig,
    )


def _spectrum(run: RunRecord) -> Figure | None:
    a = run.arrays
    if not _format.has(a, "spectrum_pod", "spectrum_ae", "spectrum_flow"):
        return None
    fig = MplFigure(figsize=(6.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    k = np.arange(len(a["spectrum_flow"]))
    ax.plot(k[1:], np.asarray(a["spectrum_flow"])[1:], color="k", label="the fluctuations")
    for key, name in (("spectrum_pod", "pod"), ("spectrum_ae", "ae"), ("spectrum_md", "md")):
        if key in a:
            ax.plot(k[1:], np.asarray(a[key])[1:], color=COLOURS[name],
                    label=f"error, {NAMES[name]}")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("wavenumber along the wake (cycles per window)")
    ax.set_ylabel("power")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return Figure(
        "rom_spectrum",
        "Which scales each method loses, 2 modes / latents: the power of the reconstruction "
        "error along the wake per wavenumber, beside that of the fluctuations themselves.",
        fig,
    )


def _forecast(run: RunRecord) -> Figure | None:
    a = run.arrays
    if not _format.has(a, "forecast_periods", "forecast_dmd", "forecast_latent", "forecast_scale"):
        return None
    fig = MplFigure(figsize=(6.5, 4), layout="constrained")
    ax = fig.add_subplot()
    p, scale = np.asarray(a["forecast_periods"]), np.asarray(a["forecast_scale"])
    ax.plot(p, 100 * np.asarray(a["forecast_dmd"]) / scale, color=COLOURS["dmd"], label="DMD")
    ax.plot(p, 100 * np.asarray(a["forecast_latent"]) / scale, color=COLOURS["ae"],
            label="autoencoder + DMD of its latents")  # fmt: skip
    ax.set_xlabel("shedding periods after the last training snapshot")
    ax.set_ylabel("relative error of the forecast (%)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return Figure(
        "rom_forecast",
        "Prediction of the snapshots after the training window: DMD's modes stepped forward "
        "against the autoencoder's latents stepped forward by a DMD fitted to them, decoded.",
        fig,
    )


def _frames(run: RunRecord) -> Figure | None:
    a = run.arrays
    if not _format.has(a, "frames_true", "frames_pod", "frames_ae", "mask"):
        return None
    mask = np.asarray(a["mask"], bool)
    rows = [("LBM", a["frames_true"]), ("POD", a["frames_pod"]), ("autoencoder", a["frames_ae"])]
    cols = len(a["frames_true"])
    fig = MplFigure(figsize=(3.2 * cols, 1.2 * len(rows) + 0.4), layout="constrained")
    axes = fig.subplots(len(rows), cols, squeeze=False)
    for r, (name, frames) in enumerate(rows):
        for c in range(cols):
            _panel(axes[r, c], np.asarray(frames)[c], mask, f"{name}, test frame {c + 1}")
    return Figure(
        "rom_frames",
        f"A strip of test frames (v): the wake, and its reconstruction with "
        f"{run.metrics.get('invariance_rank')} POD modes and {run.metrics.get('invariance_rank')}"
        " autoencoder latents.",
        fig,
    )
