"""Figures of vae: learning curves (-ELBO), the 2-D latent map, decoded grid, random samples."""

from __future__ import annotations

from matplotlib.figure import Figure as MplFigure

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure
from flowlearn.report.figures.fundamentals import _mnist as F


def draw(run: RunRecord) -> list[Figure]:
    a = run.arrays
    figs = [
        F.learning_curves(
            run,
            [""],
            ["VAE"],
            "vae_curves",
            "-ELBO in nats per image, train (dashed) and test (solid), per epoch.",
        ),
        _latent_map(run),
        F.image_grid(
            a["samples"],
            None,
            "vae_samples",
            "Digits decoded from random latent points z ~ N(0, I).",
        ),
    ]
    if "manifold" in a:
        figs.append(_manifold(a["manifold"]))
    return figs


def _latent_map(run: RunRecord) -> Figure:
    z, y = run.arrays["latent_test"], run.arrays["labels_test"]
    fig = MplFigure(figsize=(6.5, 5.5), layout="constrained")
    ax = fig.subplots()
    if z.shape[1] >= 2:
        sc = ax.scatter(z[:, 0], z[:, 1], c=y, cmap="tab10", s=3, vmin=-0.5, vmax=9.5)
        fig.colorbar(sc, ax=ax, ticks=range(10), label="digit (not seen in training)")
        ax.set(xlabel="z1", ylabel="z2")
    else:
        ax.scatter(z[:, 0], y, c=y, cmap="tab10", s=3)
        ax.set(xlabel="z1", ylabel="digit")
    acc = run.metrics["latent_knn_accuracy"]
    return Figure(
        "vae_latent_map",
        f"Test digits placed by their code mu(x), coloured by their label: the VAE never saw the "
        f"labels, yet a 5-NN vote in this plane is right {100 * acc:.1f} % of the time.",
        fig,
    )


def _manifold(grid) -> Figure:
    n = round(len(grid) ** 0.5)
    big = grid.reshape(n, n, 28, 28).transpose(0, 2, 1, 3).reshape(n * 28, n * 28)
    fig = MplFigure(figsize=(6, 6), layout="constrained")
    ax = fig.subplots()
    ax.imshow(big, cmap="gray_r")
    ax.set_axis_off()
    return Figure(
        "vae_manifold",
        f"Digits decoded on a {n}x{n} grid of latent points (quantiles 5-95 % of the prior).",
        fig,
    )
