"""A variational autoencoder, the talk's "another unsupervised generative model".

A dense VAE (:class:`flowlearn.models.vae.VAE`, 784-512-2 and back) trained on MNIST without
labels by maximising the ELBO (Adam). Its 2-D latent space is a map of the digits: the figures
show the test digits placed by their code mu(x), coloured by their (unused) labels, and the
digits decoded from a grid of latent points. The map is scored by how well the 2-D code alone
separates the classes (accuracy of a 5-nearest-neighbour vote in latent space, labels used
only for that score).

Run: ``flowlearn run vae --quick`` or ``flowlearn run vae``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from pydantic import Field
from scipy.stats import norm
from sklearn.neighbors import KNeighborsClassifier

from flowlearn.data.mnist import to_tensor
from flowlearn.evaluation.classification import predict
from flowlearn.experiments._base import Claim, Experiment, Result
from flowlearn.experiments.fundamentals import _mnist as M
from flowlearn.models.vae import VAE, negative_elbo
from flowlearn.training import resolve_device

#: the latent map separates the digits when a 5-NN vote in 2-D gets at least this accuracy
MAP_ACCURACY = 0.7
GRID = 15
N_SAMPLES = 24


class Config(M.MnistConfig):
    latent: int = Field(2, ge=1, le=64, description="latent dimensions; 2 gives the map figure")
    hidden: int = Field(512, ge=8, le=4096, description="hidden units of encoder and decoder")
    epochs: int = Field(30, ge=1, le=500, description="training epochs")
    lr: float = Field(1e-3, gt=0, le=1.0, description="Adam learning rate")


def run(config: Config, run_dir: Path) -> Result:
    device = resolve_device(config.device)
    train, test = M.load(config, "train"), M.load(config, "test")
    x_train, x_test = to_tensor(train.images), to_tensor(test.images)
    model = VAE(config.latent, config.hidden)
    module = M.TunedModule(
        model, loss=negative_elbo, lr=config.lr, config=config,
        dataset_fingerprint=train.fingerprint(),
    )  # fmt: skip
    train_loader = M.loader(x_train, x_train, config.batch_size, True, config.seed)
    test_loader = M.loader(x_test, x_test, 1000, shuffle=False)
    history = M.train(module, train_loader, test_loader, run_dir, config.epochs, device)

    model.eval().to(device)
    with torch.no_grad():
        mu_train = predict(model.encoder, x_train, device=device)
        mu_train = model.mu(mu_train.to(device)).cpu()
        mu_test = model.mu(predict(model.encoder, x_test, device=device).to(device)).cpu()
        # Digits decoded on a grid of latent points spaced by the prior's quantiles (2-D only).
        grid = None
        if config.latent == 2:
            q = norm.ppf(np.linspace(0.05, 0.95, GRID)).astype(np.float32)
            zz = torch.from_numpy(np.stack(np.meshgrid(q, q[::-1]), -1).reshape(-1, 2))
            grid = model.decode(zz.to(device)).cpu()[:, 0].numpy()
        g = torch.Generator().manual_seed(config.seed)
        z = torch.randn(N_SAMPLES, config.latent, generator=g)
        samples = model.decode(z.to(device)).cpu()[:, 0].numpy()
    knn = KNeighborsClassifier(5).fit(mu_train.numpy(), train.labels)
    map_acc = float(knn.score(mu_test.numpy(), test.labels))
    nelbo = float(history[-1]["val_loss"])
    metrics = {
        "n_train": len(train),
        "n_test": len(test),
        "parameters": sum(p.numel() for p in model.parameters()),
        "test_negative_elbo_nats": nelbo,
        "train_negative_elbo_nats": float(history[-1]["train_loss"]),
        "latent_knn_accuracy": map_acc,
    }
    arrays = {
        **M.curves(history),
        "latent_test": mu_test.numpy().astype(np.float32),
        "labels_test": test.labels.astype(np.uint8),
        "samples": (samples * 255).round().astype(np.uint8),
    }
    if grid is not None:
        arrays["manifold"] = (grid * 255).round().astype(np.uint8)
    return Result(metrics=metrics, claims=claims(config, metrics), arrays=arrays)


def claims(config: Config, m: dict) -> list[Claim]:
    map_acc = m["latent_knn_accuracy"]
    return [
        Claim(
            slide="Another unsupervised generative model: the variational autoencoder",
            talk="learns a map of the digits without labels (no figure)",
            measured=f"5-NN accuracy in the {config.latent}-D code: {M.pct(map_acc, 1)}",
            reproduced=map_acc >= MAP_ACCURACY,
            reason=M.subset_reason(config, config.epochs)
            + f"reproduced when classes are separable in the code: a 5-nearest-neighbour vote "
            f"on mu(x) reaches {100 * MAP_ACCURACY:.0f} % (chance: 10 %). Test -ELBO "
            f"{m['test_negative_elbo_nats']:.1f} nats per image after {config.epochs} epochs.",
        )
    ]


EXPERIMENT = Experiment(
    name="vae",
    title="A variational autoencoder: a 2-D map of the digits",
    claim="A variational autoencoder, another unsupervised generative model, maps the digits "
    "to a latent space it can sample.",
    order=110,
    config=Config,
    run=run,
    quick={"n_train": 5000, "n_test": 2000, "epochs": 5, "batch_size": 64},
    runtime_quick="~30-45 s",
    runtime_full="~6 min (375 s measured)",
    claims=claims,
)
