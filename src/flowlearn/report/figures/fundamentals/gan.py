"""Figures of gan: real, DCGAN and VAE samples side by side; class histograms; each sample beside
its nearest training image; the nearest-neighbour distances; the adversarial training curves."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure as MplFigure

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure
from flowlearn.report.figures.fundamentals import _mnist as F


def draw(run: RunRecord) -> list[Figure]:
    a, m = run.arrays, run.metrics
    fd = m["frechet"]
    rows = [a["real_samples"][:12], a["gan_samples"][:12], a["gan_samples"][12:24],
            a["vae_samples"][:12], a["vae_samples"][12:24]]  # fmt: skip
    return [
        F.image_grid(
            a["gan_samples"],
            None,
            "gan_samples",
            f"Real test images (first row), DCGAN samples (rows 2-3, Fréchet distance "
            f"{fd['gan']:.2f}) and VAE samples (rows 4-5, {fd['vae']:.2f}); two halves of the "
            f"real test set are {fd['real_vs_real']:.2f} apart in the same feature space.",
            rows_of=rows,
            row_labels=["real", "DCGAN", "DCGAN", "VAE", "VAE"],
        ),
        _histograms(run),
        F.image_grid(
            a["pairs_sample"],
            None,
            "gan_nearest",
            "Each DCGAN sample (top) above its nearest training image (bottom, Euclidean "
            "distance in pixels): similar digits, not copies.",
            rows_of=[a["pairs_sample"], a["pairs_nearest"]],
            row_labels=["sample", "nearest"],
        ),
        _distances(run),
        _curves(run),
    ]


def _histograms(run: RunRecord) -> Figure:
    a = run.arrays
    fig = MplFigure(figsize=(7, 3.2), layout="constrained")
    ax = fig.subplots()
    x = np.arange(10)
    for j, (key, label) in enumerate((("hist_test", "real test"), ("hist_gan", "DCGAN"),
                                      ("hist_vae", "VAE"))):  # fmt: skip
        ax.bar(x + (j - 1) * 0.27, 100 * a[key], 0.27, label=label)
    ax.axhline(10, color="k", lw=0.6, ls=":")
    ax.set(xticks=x, xlabel="class (by flowlearn's classifier)", ylabel="share of images (%)")
    ax.legend(fontsize=8)
    return Figure(
        "gan_classes",
        "Mode coverage: the share of each class among real test images, DCGAN samples and VAE "
        "samples, as flowlearn's classifier reads them. A collapsed GAN would leave classes out.",
        fig,
    )


def _distances(run: RunRecord) -> Figure:
    a = run.arrays
    fig = MplFigure(figsize=(6.5, 3.2), layout="constrained")
    ax = fig.subplots()
    bins = np.linspace(0, float(max(a["nearest_test"].max(), a["nearest_gan"].max())), 40)
    for key, label in (("nearest_test", "unseen test images"), ("nearest_gan", "DCGAN samples"),
                       ("nearest_vae", "VAE samples")):  # fmt: skip
        ax.hist(a[key], bins, histtype="step", label=label)
    ax.set(xlabel="distance to the nearest training image (pixels in [0, 1])", ylabel="images")
    ax.legend(fontsize=8)
    return Figure(
        "gan_memorisation",
        "Memorisation check: a generator that copied its training images would sit far left of "
        "the unseen test images.",
        fig,
    )


def _curves(run: RunRecord) -> Figure:
    a = run.arrays
    fig = MplFigure(figsize=(6.5, 3.2), layout="constrained")
    ax = fig.subplots()
    e = a["gan_epoch"]
    ax.plot(e, a["gan_d_loss"], label="discriminator loss")
    ax.plot(e, a["gan_g_loss"], label="generator loss")
    ax.plot(e, a["gan_d_real"], ls="--", label="D(real)")
    ax.plot(e, a["gan_d_fake"], ls="--", label="D(G(z))")
    ax.set(xlabel="epoch")
    ax.legend(fontsize=8)
    return Figure("gan_training", "The adversarial game per epoch (means over the batches).", fig)
