"""Figures of super-resolution: the fields of one unseen flow by each method, the errors per
method and input, the energy spectra, and the cost-error plane where coarse LBM +
super-resolution meets the LBM run on finer grids."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure as MplFigure

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure
from flowlearn.report.figures.cfd._format import num
from flowlearn.report.panels import body_cmap, field_limits, field_panel

NAMES = {
    "cubic": "cubic",
    "raisr": "RAISR",
    "srcnn": "SRCNN",
    "srresnet": "SRResNet",
    "srgan": "SRGAN",
    "srcnn_from_mean": "SRCNN (trained on averaged fields)",
}


def _vorticity(f: np.ndarray) -> np.ndarray:
    return np.gradient(f[1], axis=1) - np.gradient(f[0], axis=0)


def _fields(run: RunRecord, s: str, kind: str) -> Figure | None:
    a = run.arrays
    key = f"x{s}_{kind}_case"
    if key not in a:
        return None
    names = [n for n in NAMES if f"x{s}_{kind}_{n}" in a]
    mask = a[f"x{s}_{kind}_mask"][0]
    truth = a[f"x{s}_{kind}_truth"][0]
    panels = [("the coarse input (u)", a[f"x{s}_{kind}_input"][0][0], None)]
    preds = [(NAMES[n], a[f"x{s}_{kind}_{n}"][0]) for n in names]
    fig = MplFigure(figsize=(12, 1.9 * (len(preds) + 2) / 2 + 1), layout="constrained")
    rows = (len(preds) + 2 + 1) // 2
    axes = fig.subplots(rows, 2, squeeze=False).ravel()
    fluid = ~mask
    items = [("fine LBM", truth), *preds]
    vort = [_vorticity(f) for _, f in items]
    lo, hi = field_limits(*vort, fluid=fluid)
    lim = max(abs(lo), abs(hi))
    coarse = panels[0][1]
    ax = axes[0]
    ax.imshow(coarse, origin="lower", cmap="RdBu_r", aspect="equal")
    ax.set_title(f"coarse input, u ({KIND[kind]})", fontsize=8)
    for ax, (title, _), w in zip(axes[1:], items, vort, strict=False):
        field_panel(ax, w, mask, body_cmap("RdBu_r"), -lim, lim)
        ax.set_title(f"{title}: vorticity", fontsize=8)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[1 + len(items) :]:
        ax.axis("off")
    return Figure(
        f"super_resolution_fields_x{s}_{kind}",
        f"One unseen flow, x{s}, input {KIND[kind]}: the vorticity of the fine LBM and of each "
        "method's upscaled field (same colour range); the body grey.",
        fig,
    )


KIND = {"lbm": "simulated on the coarse grid", "mean": "fine fields averaged down"}


def _errors(run: RunRecord) -> Figure:
    m = run.metrics
    fig = MplFigure(figsize=(10, 3.6), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, metric, label in zip(axes, ("error", "fine_energy"),
                                 ("mean velocity error", "fine-scale energy / the fine field's"),
                                 strict=True):  # fmt: skip
        groups = [(s, kind) for s in m["factors"] for kind in ("mean", "lbm")
                  if kind in m["factors"][s]["methods"]]  # fmt: skip
        width = 0.8 / max(1, len(NAMES))
        for j, name in enumerate(NAMES):
            vals = [num(m["factors"][s]["methods"][k].get(name, {}).get(metric)) for s, k in groups]
            ax.bar(np.arange(len(groups)) + j * width, vals, width, label=NAMES[name])
        ax.set_xticks(np.arange(len(groups)) + 0.4 - width / 2)
        ax.set_xticklabels([f"x{s}\n{'simulated' if k == 'lbm' else 'averaged'}"
                            for s, k in groups], fontsize=8)  # fmt: skip
        ax.set_ylabel(label)
        if metric == "error":
            ax.set_yscale("log")
        else:
            ax.axhline(1, color="k", lw=0.8, ls="--")
    axes[0].legend(fontsize=7)
    return Figure(
        "super_resolution_errors",
        "Each method on the unseen flows, per factor and input: the mean velocity error (log) "
        "and the kinetic energy above the coarse grid's Nyquist wavenumber against the fine "
        "field's (1: the fine scales recovered; 0: none).",
        fig,
    )


def _cost(run: RunRecord) -> Figure:
    m = run.metrics
    fig = MplFigure(figsize=(7, 4.4), layout="constrained")
    ax = fig.subplots()
    lad = [r for r in m["ladder"] if np.isfinite(num(r["seconds"])) and num(r["error"]) > 0]
    ax.loglog([r["seconds"] for r in lad], [r["error"] for r in lad], "k-o",
              label="LBM on coarser grids, cubic-interpolated")  # fmt: skip
    for r in lad:
        ax.annotate(r["label"], (r["seconds"], r["error"]), fontsize=7, xytext=(4, 2),
                    textcoords="offset points")  # fmt: skip
    fine = m["fine_lbm_seconds"]
    ax.axvline(fine, color="k", ls=":", lw=1, label=f"LBM on the fine grid ({fine:.2g} s)")
    markers = {"cubic": "s", "raisr": "D", "srcnn": "^", "srresnet": "v", "srgan": "*",
               "srcnn_from_mean": "x"}  # fmt: skip
    for key, e in m["equal_cost"].items():
        if key == "front":
            continue
        ax.loglog(e["seconds"], e["error"], markers.get(e["method"], "o"), ms=7,
                  label=f"x{e['factor']} LBM + {NAMES.get(e['method'], e['method'])}")  # fmt: skip
    ax.set(xlabel="seconds per flow (one thread)", ylabel="mean velocity error")
    ax.legend(fontsize=6, ncol=2)
    return Figure(
        "super_resolution_cost",
        "The question that decides: error against cost per flow. Black: the LBM itself on "
        "grids coarser than the fine one (its cost-error front); markers: the coarse LBM + "
        "each upscaling method (the coarse run and the inference, one thread each). Training "
        "and its data are not in these costs: see the break-even in the claims.",
        fig,
    )


def _spectra(run: RunRecord) -> Figure:
    a, m = run.arrays, run.metrics
    facs = list(m["factors"])
    fig = MplFigure(figsize=(5 * len(facs), 3.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(facs), squeeze=False).ravel())
    for ax, s in zip(axes, facs, strict=True):
        kind = "lbm" if f"x{s}_lbm_spectrum_true" in a else "mean"
        key = f"x{s}_{kind}_spectrum_true"
        if key not in a:
            continue
        k = np.arange(len(a[key]))
        ax.loglog(k[1:], a[key][1:], "k-", lw=2, label="fine LBM")
        for n in NAMES:
            sk = f"x{s}_{kind}_spectrum_{n}"
            if sk in a:
                ax.loglog(k[1:], a[sk][1:], lw=1, label=NAMES[n])
        n = m["grid"][0] - m["grid"][0] // 2
        ax.axvline(n / (2 * int(s)), color="0.5", ls="--", lw=0.8)
        ax.set(xlabel="wavenumber along the wake (cycles per half channel)",
               ylabel="kinetic energy", title=f"x{s}, input {KIND[kind]}")  # fmt: skip
        ax.legend(fontsize=6)
    return Figure(
        "super_resolution_spectra",
        "Kinetic-energy spectra along the wake (the channel's downstream half) of the unseen "
        "flows; dashed: the coarse grid's "
        "Nyquist wavenumber, beyond which the input holds nothing.",
        fig,
    )


def _wake(run: RunRecord) -> Figure | None:
    """The wake's later-period snapshot: its vorticity, fine and from each method, per factor."""
    a, m = run.arrays, run.metrics
    if "wake" not in m or "wake_truth" not in a:
        return None
    facs = list(m["wake"]["factors"])
    names = [n for n in ("cubic", "raisr", "srresnet", "srgan") if f"wake_x{facs[0]}_{n}" in a]
    mask, truth = a["wake_mask"][0], a["wake_truth"][0]
    cols = 2 + len(names)
    fig = MplFigure(figsize=(2.6 * cols, 0.9 * len(facs) + 0.4), layout="constrained")
    axes = fig.subplots(len(facs), cols, squeeze=False)
    w_true = _vorticity(truth)
    # saturated at the body, so the shed vortices downstream show
    lim = float(np.nanpercentile(np.abs(np.where(mask, np.nan, w_true)), 98))
    cmap = body_cmap("RdBu_r")
    for row, s in zip(axes, facs, strict=True):
        wm = m["wake"]["factors"][s]["methods"]
        row[0].imshow(a[f"wake_x{s}_input"][0][0], origin="lower", cmap="RdBu_r")
        row[0].set_title(f"x{s} input (u, averaged)", fontsize=7)
        field_panel(row[1], w_true, mask, cmap, -lim, lim)
        row[1].set_title("fine LBM", fontsize=7)
        for ax, n in zip(row[2:], names, strict=True):
            field_panel(ax, _vorticity(a[f"wake_x{s}_{n}"][0]), mask, cmap, -lim, lim)
            ax.set_title(f"{NAMES[n]}: fluct. error {100 * wm[n]['fluctuation_error']:.1f} %, "
                         f"grad. {wm[n]['sharpness']:.2f}", fontsize=7)  # fmt: skip
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    return Figure(
        "super_resolution_wake",
        "The Re-100 wake in a later period, from fine snapshots averaged down: the vorticity of "
        "the fine LBM and of each method's upscaled field (same colour range), with the error "
        "of the fluctuations over the test snapshots and the gradient energy against the "
        "truth's; the colours saturate near the body. The wake's own coarse simulation diverged "
        "at these resolutions.",
        fig,
    )


def draw(run: RunRecord) -> list[Figure]:
    out = []
    for s in run.metrics["factors"]:
        for kind in ("lbm", "mean"):
            f = _fields(run, s, kind)
            if f is not None:
                out.append(f)
    wake = _wake(run)
    return [*out, _errors(run), _spectra(run), _cost(run), *([wake] if wake else [])]
