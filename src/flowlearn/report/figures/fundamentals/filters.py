"""Figures of the filters experiment: the photo through each kernel, the Conv2d-vs-scipy
difference, the learned kernel against the true one, the loss curves and the learned filter on
the held-out photo."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure as MplFigure

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure

#: Floor of the log colour scale of the difference map (exact zeros are drawn at it).
DIFF_FLOOR = 1e-10


def draw(run: RunRecord) -> list[Figure]:
    return [_gallery(run), _difference(run), _kernels(run), _losses(run), _test_photo(run)]


def _show_filtered(ax, image: np.ndarray, kernel: np.ndarray) -> str:
    """GIMP clips the result to [0, 1]; a kernel summing to 0 (edges) gives values around 0,
    so show its magnitude instead, scaled to its 99th percentile."""
    if abs(float(kernel.sum())) < 1e-6:
        magnitude = np.abs(image)
        ax.imshow(magnitude, cmap="gray", vmin=0.0, vmax=float(np.percentile(magnitude, 99)))
        return "|output|"
    ax.imshow(np.clip(image, 0.0, 1.0), cmap="gray", vmin=0.0, vmax=1.0)
    return "clipped to [0, 1]"


def _kernel_inset(ax, kernel: np.ndarray) -> None:
    k = _trim(kernel)
    inset = ax.inset_axes((0.0, 0.0, 0.32, 0.45))  # imshow keeps it square inside this box
    lim = float(np.abs(k).max()) or 1.0
    inset.imshow(k, cmap="RdBu_r", vmin=-lim, vmax=lim)
    if k.shape[0] <= 3:
        for (i, j), v in np.ndenumerate(k):
            colour = "w" if abs(v) > 0.6 * lim else "k"
            inset.text(j, i, f"{v:.2g}", ha="center", va="center", fontsize=6, color=colour)
    inset.set_xticks([])
    inset.set_yticks([])


def _trim(kernel: np.ndarray) -> np.ndarray:
    """Drop the zero ring a 3x3 kernel got to share the 5x5 Conv2d."""
    while kernel.shape[0] > 3 and not np.any(kernel[[0, -1], :]) and not np.any(kernel[:, [0, -1]]):
        kernel = kernel[1:-1, 1:-1]
    return kernel


def _gallery(run: RunRecord) -> Figure:
    a, names = run.arrays, run.config["kernels"]
    n = len(names) + 1
    cols = min(n, 4)
    rows = -(-n // cols)
    h, w = a["image"].shape
    fig = MplFigure(figsize=(3.4 * cols, 3.4 * rows * h / w + 0.6 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    axes[0].imshow(a["image"], cmap="gray", vmin=0.0, vmax=1.0)
    axes[0].set_title("original (grey)", fontsize=10)
    for ax, name, out, kernel in zip(axes[1:], names, a["filtered"], a["kernels"], strict=False):
        how = _show_filtered(ax, out, kernel)
        ax.set_title(f"{name} ({how})", fontsize=10)
        _kernel_inset(ax, kernel)
    for ax in axes:
        ax.set_axis_off()
    return Figure(
        "filters_gallery",
        f"The cat photo ({h}x{w} pixels) through each kernel of the slides, computed by one "
        f"torch Conv2d ({len(names)} output channels, padding '{run.config['padding']}'). Inset: "
        "the kernel (red positive, blue negative).",
        fig,
    )


def _difference(run: RunRecord) -> Figure:
    a, m = run.arrays, run.metrics
    fig = MplFigure(figsize=(12, 4.2), layout="constrained")
    ax_map, ax_bar = fig.subplots(1, 2, width_ratios=(1.3, 1))
    diff = np.maximum(a["diff_map"], DIFF_FLOOR)
    im = ax_map.imshow(
        diff, cmap="magma", norm=LogNorm(vmin=DIFF_FLOOR, vmax=max(1e-5, diff.max()))
    )
    fig.colorbar(im, ax=ax_map, label="max over kernels of |Conv2d - scipy|")
    ax_map.set_title(
        f"Conv2d (float32) vs scipy.ndimage.correlate (float64), mode '{m['scipy_mode']}'",
        fontsize=10,
    )
    ax_map.set_axis_off()

    names = list(m["kernels"])
    x = np.arange(len(names))
    corr = [max(m["kernels"][k]["torch_vs_scipy_max_abs"], DIFF_FLOOR) for k in names]
    conv = [max(m["kernels"][k]["convolve_vs_torch_max_abs"], DIFF_FLOOR) for k in names]
    ax_bar.bar(x - 0.2, corr, 0.4, color="C0", label="vs correlate (same kernel)")
    ax_bar.bar(x + 0.2, conv, 0.4, color="C3", label="vs convolve (kernel flipped)")
    ax_bar.axhline(1e-5, color="k", ls="--", lw=1, label="claim: 1e-5")
    ax_bar.set_yscale("log")
    ax_bar.set_xticks(x, names, rotation=30, ha="right")
    ax_bar.set_ylabel("max |difference| over the image")
    ax_bar.legend(fontsize=8)
    return Figure(
        "filters_difference",
        "Left: where the Conv2d result and scipy's differ (float32 round-off only, "
        f"max {m['torch_vs_scipy_max_abs']:.1e}). Right: per kernel, against "
        "scipy.ndimage.correlate (equal) and scipy.ndimage.convolve, which flips the kernel: "
        "equal for the symmetric kernels, different for Sobel and emboss.",
        fig,
    )


def _annotated(ax, kernel: np.ndarray, title: str, lim: float, fmt: str) -> None:
    ax.imshow(kernel, cmap="RdBu_r", vmin=-lim, vmax=lim)
    for (i, j), v in np.ndenumerate(kernel):
        colour = "w" if abs(v) > 0.6 * lim else "k"
        ax.text(j, i, format(v, fmt), ha="center", va="center", fontsize=9, color=colour)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


def _kernels(run: RunRecord) -> Figure:
    a, learn = run.arrays, run.metrics["learning"]
    true, learned = a["true_kernel"], a["learned_kernel"]
    lim = float(np.abs(true).max()) or 1.0
    err = learned - true
    fig = MplFigure(figsize=(10, 3.6), layout="constrained")
    axes = fig.subplots(1, 3)
    _annotated(axes[0], true, f"true ({learn['target_kernel']})", lim, ".3g")
    _annotated(axes[1], learned, "learned", lim, ".4f")
    err_lim = float(np.abs(err).max()) or 1e-12
    _annotated(axes[2], err, "learned - true", err_lim, ".1e")
    return Figure(
        "filters_kernels",
        f"The kernel a single {true.shape[0]}x{true.shape[0]} Conv2d learned from "
        f"{run.config['n_train_patches']} (patch, filtered patch) pairs of the cat, next to the "
        f"true one: max |error| {learn['max_abs_kernel_error']:.1e}, learned bias "
        f"{learn['learned_bias']:.1e}. {learn['conv_parameters']} parameters, shared over "
        f"the image, against {learn['dense_parameters']:.2e} for a dense image-to-image layer.",
        fig,
    )


def _losses(run: RunRecord) -> Figure:
    a, learn = run.arrays, run.metrics["learning"]
    fig = MplFigure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    steps = np.arange(a["train_loss"].size)
    ax.plot(steps, a["train_loss"], color="C0", label="train (cat patches)")
    ax.plot(steps, a["test_loss"], color="C3", label=f"test ({learn['test_image']} patches)")
    ax.set_yscale("log")
    ax.set_xlabel(f"full-batch {run.config['optimizer']} step")
    ax.set_ylabel("mean squared error (standardised pixels)")
    ax.legend()
    return Figure(
        "filters_loss",
        "Train and held-out test loss of the kernel fit. The test patches come from another "
        "photograph: the loss falls with the training loss because the layer learns the filter, "
        "not the pictures.",
        fig,
    )


def _test_photo(run: RunRecord) -> Figure:
    a, learn = run.arrays, run.metrics["learning"]
    fig = MplFigure(figsize=(8, 4.2), layout="constrained")
    ax_in, ax_out = fig.subplots(1, 2)
    ax_in.imshow(a["test_photo"], cmap="gray")
    ax_in.set_title(f"{learn['test_image']} (never seen in training)", fontsize=10)
    out = np.abs(a["test_photo_learned"])
    ax_out.imshow(out, cmap="gray", vmin=0.0, vmax=float(np.percentile(out, 99)))
    ax_out.set_title("|learned kernel * photo|", fontsize=10)
    for ax in (ax_in, ax_out):
        ax.set_axis_off()
    return Figure(
        "filters_test_photo",
        f"The learned kernel slid over the centre of {learn['test_image']}: one small matrix "
        "serves every pixel. Over the whole photo it differs from the true filter by at most "
        f"{learn['test_photo_max_abs_error']:.1e} (standardised units).",
        fig,
    )
