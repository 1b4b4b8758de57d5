"""Figures of autoencoder: learning curves (lr 1.0, lr 0.001, denoising), originals vs
reconstructions, the worst-reconstructed test digits, noisy vs denoised."""

from __future__ import annotations

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure
from flowlearn.report.figures.fundamentals import _mnist as F


def draw(run: RunRecord) -> list[Figure]:
    a = run.arrays
    prefixes, labels = [""], [f"Adadelta lr {run.config.get('lr', 1.0):g}"]
    if "low_lr_train_loss" in a:
        prefixes.append("low_lr_")
        labels.append(f"Adadelta lr {run.config.get('low_lr', 0.001):g}")
    if "denoise_train_loss" in a:
        prefixes.append("denoise_")
        labels.append("denoising")
    figs = [
        F.talk_vs_measured(run, "autoencoder_claims", "The talk's figures beside the measured."),
        F.learning_curves(
            run,
            prefixes,
            labels,
            "autoencoder_curves",
            "Binary cross-entropy per pixel, train (dashed) and test (solid), per epoch.",
        ),
        F.image_grid(
            a["originals"],
            None,
            "autoencoder_reconstructions",
            "Test digits (top) and their reconstructions from the 128-number code (bottom).",
            rows_of=[a["originals"], a["reconstructions"]],
            row_labels=["original", "decoded"],
        ),
        F.image_grid(
            a["worst_originals"],
            None,
            "autoencoder_worst",
            "The worst-reconstructed test digits (highest cross-entropy), with their "
            "reconstructions: per-image losses "
            + ", ".join(f"{v:.3f}" for v in a["worst_loss"][:6])
            + ", ...",
            rows_of=[a["worst_originals"], a["worst_reconstructions"]],
            row_labels=["original", "decoded"],
        ),
    ]
    if "noisy" in a:
        figs.append(
            F.image_grid(
                a["noisy"],
                None,
                "autoencoder_denoising",
                "Denoising: clean test digits, the noisy input, and the denoiser's output.",
                rows_of=[a["originals"], a["noisy"], a["denoised"]],
                row_labels=["clean", "noisy", "denoised"],
            )
        )
    return figs
