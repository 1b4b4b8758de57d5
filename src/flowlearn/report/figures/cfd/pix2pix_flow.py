"""Figures of pix2pix-flow: one unseen case per task (truth, the L1 U-Net, pix2pix, and for the
wake the nearest-phase lookup), the spectra, and the training curves."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure as MplFigure

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure
from flowlearn.report.panels import body_cmap, field_limits, field_panel

NAMES = {"truth": "LBM", "lookup": "nearest phase", "unet": "U-Net (L1)", "pix2pix": "pix2pix"}


def _vorticity(f: np.ndarray) -> np.ndarray:
    return np.gradient(f[1], axis=1) - np.gradient(f[0], axis=0)


def _cases(run: RunRecord, task: str) -> Figure:
    a = run.arrays
    names = [n for n in NAMES if f"{task}_{n}" in a]
    mask = a[f"{task}_mask"][0]
    vort = {n: _vorticity(a[f"{task}_{n}"][0]) for n in names}
    lo, hi = field_limits(*vort.values(), fluid=~mask)
    lim = max(abs(lo), abs(hi))
    ny, nx = mask.shape
    fig = MplFigure(figsize=(10, 0.6 + len(names) * 10 * ny / nx * 1.15), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(names), 1))
    for ax, n in zip(axes, names, strict=True):
        im = field_panel(ax, vort[n], mask, body_cmap("RdBu_r"), -lim, lim)
        ax.set_title(f"{NAMES[n]}: vorticity", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=list(axes), shrink=0.6)
    what = "a body unseen in training" if task == "bodies" else "a later snapshot of the wake"
    return Figure(f"pix2pix_{task}", f"{task}: {what}, the vorticity of each prediction.", fig)


def _spectra(run: RunRecord) -> Figure:
    a = run.arrays
    tasks = list(run.metrics["tasks"])
    fig = MplFigure(figsize=(5 * len(tasks), 3.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(tasks), squeeze=False).ravel())
    for ax, task in zip(axes, tasks, strict=True):
        for n in NAMES:
            key = f"{task}_spectrum_{n}"
            if key in a:
                k = np.arange(len(a[key]))
                ax.loglog(k[1:], a[key][1:], lw=2 if n == "truth" else 1, label=NAMES[n])
        ax.set(xlabel="wavenumber along the wake (cycles per half channel)",
               ylabel="kinetic energy", title=task)  # fmt: skip
        ax.legend(fontsize=7)
    return Figure(
        "pix2pix_spectra",
        "Kinetic-energy spectra along the wake (the downstream half) of the unseen cases: "
        "where a blurred prediction falls below the LBM at high wavenumbers.",
        fig,
    )


def _curves(run: RunRecord) -> Figure:
    tasks = list(run.metrics["tasks"])
    fig = MplFigure(figsize=(5 * len(tasks), 3.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(tasks), squeeze=False).ravel())
    for ax, task in zip(axes, tasks, strict=True):
        hist = run.metrics["tasks"][task].get("history", {})
        for n, h in hist.items():
            ax.semilogy(np.arange(1, len(h["l1"]) + 1), h["l1"], label=f"{NAMES[n]}: L1")
        ax.set(xlabel="epoch", ylabel="training L1 (standardised)", title=task)
        ax.legend(fontsize=7)
    return Figure("pix2pix_curves", "The L1 loss during training, both generators.", fig)


def draw(run: RunRecord) -> list[Figure]:
    return [*(_cases(run, t) for t in run.metrics["tasks"]), _spectra(run), _curves(run)]
