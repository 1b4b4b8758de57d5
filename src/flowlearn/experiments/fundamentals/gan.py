"""Generative adversarial networks, the talk's DCGAN slides (Radford et al. 2016), with numbers
that say how good the samples are rather than a gallery alone.

- **model** (:mod:`flowlearn.models.gan`, :mod:`flowlearn.training.gan`): a DCGAN for 28 x 28
  images trained on MNIST or Fashion-MNIST with the paper's recipe;
- **quality**: the Fréchet distance between generated and real test images in the feature space
  of a classifier flowlearn trains in the same run (the penultimate layer of a small CNN). This is
  not the standard FID: Inception-v3's weights cannot be fetched here, and a digit classifier's
  features are the relevant ones for digits. Always shown beside its baseline, two halves of the
  real test set (the distance that sampling noise alone gives), and beside a VAE trained on the
  same images and scored the same way;
- **mode coverage**: the class histogram of the samples (by the same classifier) against the
  test set's;
- **memorisation**: each sample's distance to its nearest training image, against the same for
  unseen test images: a generator that copies its training set sits much closer to it.

Run: ``flowlearn run gan`` (MNIST), ``flowlearn run gan --set dataset=fashion-mnist``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from pydantic import Field
from torch.nn import functional as F

from flowlearn.data.mnist import to_tensor
from flowlearn.evaluation import generative as ev
from flowlearn.evaluation.classification import predict
from flowlearn.experiments._base import Claim, Experiment, Result
from flowlearn.experiments.fundamentals import _mnist as M
from flowlearn.models.cnn import SmallCNN
from flowlearn.models.vae import VAE, negative_elbo
from flowlearn.training.gan import GanSettings, train_gan

#: The GAN's samples must cover every class with at least this share (uniform: 10 %).
MIN_CLASS_SHARE = 0.03
#: Not a copy: the samples' median distance to their nearest training image is at least this
#: share of unseen test images' own.
COPY_RATIO = 0.8
N_SHOW = 64
N_PAIRS = 8


class Config(M.MnistConfig):
    dataset: Literal["mnist", "fashion-mnist"] = Field("mnist", description="the images")
    latent: int = Field(100, ge=2, le=1024, description="the generator's noise dimension")
    width: int = Field(32, ge=4, le=512, description="feature maps at 14 x 14 (x2 at 7 x 7)")
    epochs: int = Field(15, ge=1, le=1000, description="GAN training epochs")
    lr: float = Field(2e-4, gt=0, le=1.0, description="Adam's learning rate (the paper's)")
    n_eval: int = Field(5000, ge=100, le=10_000, description="images per set in the scores")
    classifier_epochs: int = Field(3, ge=1, le=100, description="of the feature classifier")
    vae_epochs: int = Field(20, ge=1, le=1000, description="of the VAE compared")
    vae_latent: int = Field(16, ge=2, le=256)
    fid: bool = Field(False, description="also the standard FID (needs flowlearn[fid], weights)")
    fid_weights: str | None = Field(None, description="the FID Inception weights file")


def _say(text: str) -> None:
    print(text, flush=True)


class _Features(torch.nn.Module):
    """The classifier's penultimate layer: the feature space of the Fréchet distance."""

    def __init__(self, net: SmallCNN) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.net.hidden(self.net.features(x)))


def run(config: Config, run_dir: Path) -> Result:
    train, test = M.load(config, "train", config.dataset), M.load(config, "test", config.dataset)
    x_train, x_test = to_tensor(train.images), to_tensor(test.images)  # [0, 1]
    y_train, y_test = torch.from_numpy(train.labels), torch.from_numpy(test.labels)
    m: dict = {"dataset": config.dataset, "n_train": len(train), "n_test": len(test)}

    # 1. the feature extractor: flowlearn's own classifier, trained on the same training images
    start = time.perf_counter()
    clf = SmallCNN(width=16, hidden=64, regulariser="dropout", p=0.3)
    module = M.classifier_module(clf, config.model_copy(update={"lr": 1e-3}),
                                 train.fingerprint())  # fmt: skip
    M.train(
        module,
        M.loader(x_train, y_train, config.batch_size, True, config.seed),
        M.loader(x_test, y_test, 1000, False),
        run_dir / "classifier",
        config.classifier_epochs,
        "cpu",
    )
    clf.eval()
    m["classifier_accuracy"] = float((predict(clf, x_test).argmax(1) == y_test).float().mean())
    m["classifier_seconds"] = time.perf_counter() - start
    _say(f"gan: feature classifier {100 * m['classifier_accuracy']:.2f} % on the test set")

    # 2. the DCGAN, on images scaled to [-1, 1]
    settings = GanSettings(latent=config.latent, width=config.width, epochs=config.epochs,
                           batch_size=config.batch_size, lr=config.lr, seed=config.seed,
                           config=config.model_dump(mode="json"))  # fmt: skip
    gan = train_gan(x_train * 2 - 1, settings, run_dir / "gan", progress=_say)
    m["gan_seconds"] = gan.seconds

    # 3. the VAE, the same images, scored the same way
    start = time.perf_counter()
    vae = VAE(config.vae_latent, 512)
    vae_module = M.TunedModule(vae, loss=negative_elbo, lr=1e-3, config=config,
                               dataset_fingerprint=train.fingerprint())  # fmt: skip
    M.train(
        vae_module,
        M.loader(x_train, x_train, config.batch_size, True, config.seed),
        M.loader(x_test, x_test, 1000, False),
        run_dir / "vae",
        config.vae_epochs,
        "cpu",
    )
    vae.eval()
    m["vae_seconds"] = time.perf_counter() - start

    # 4. scores
    n = min(config.n_eval, len(test) // 2)
    g = torch.Generator().manual_seed(config.seed + 7)
    with torch.no_grad():
        fake = (gan.generator(torch.randn(n, config.latent, generator=g)) + 1) / 2
        vae_fake = vae.decode(torch.randn(n, config.vae_latent, generator=g))
    perm = torch.randperm(len(test), generator=g)
    half_a, half_b = x_test[perm[:n]], x_test[perm[n : 2 * n]]
    feats = _Features(clf).eval()
    f_a, f_b = predict(feats, half_a).numpy(), predict(feats, half_b).numpy()
    f_gan, f_vae = predict(feats, fake).numpy(), predict(feats, vae_fake).numpy()
    m["frechet"] = {
        "real_vs_real": ev.frechet_distance(f_b, f_a),
        "gan": ev.frechet_distance(f_gan, f_a),
        "vae": ev.frechet_distance(f_vae, f_a),
        "samples": n,
        "features": "penultimate layer (64) of flowlearn's classifier trained in this run",
    }
    if config.fid:  # the standard FID, in Inception-v3's features, on the same images
        inception = ev.inception_extractor(config.fid_weights)
        i_a, i_b, i_gan, i_vae = (
            ev.inception_features(x, inception) for x in (half_a, half_b, fake, vae_fake)
        )
        m["fid"] = {
            "real_vs_real": ev.frechet_distance(i_b, i_a),
            "gan": ev.frechet_distance(i_gan, i_a),
            "vae": ev.frechet_distance(i_vae, i_a),
            "samples": n,
        }
        _say(f"gan: standard FID GAN {m['fid']['gan']:.2f}, VAE {m['fid']['vae']:.2f}, real vs "
             f"real {m['fid']['real_vs_real']:.2f}")  # fmt: skip
    hist = {
        "test": ev.class_histogram(predict(clf, half_a).numpy()),
        "gan": ev.class_histogram(predict(clf, fake).numpy()),
        "vae": ev.class_histogram(predict(clf, vae_fake).numpy()),
    }
    m["coverage"] = {
        k: {"min_share": float(h.min()), "tv_to_test": float(0.5 * np.abs(h - hist["test"]).sum())}
        for k, h in hist.items()
    }
    k = min(1000, n)
    d_gan = ev.nearest_distances(fake[:k], x_train)
    d_test = ev.nearest_distances(half_b[:k], x_train)
    d_vae = ev.nearest_distances(vae_fake[:k], x_train)
    m["memorisation"] = {
        "gan_median": float(np.median(d_gan)),
        "vae_median": float(np.median(d_vae)),
        "test_median": float(np.median(d_test)),
        "ratio": float(np.median(d_gan) / np.median(d_test)),
        "samples": k,
    }
    _say(
        f"gan: Fréchet distance GAN {m['frechet']['gan']:.2f}, VAE {m['frechet']['vae']:.2f}, "
        f"real vs real {m['frechet']['real_vs_real']:.2f}; smallest class share "
        f"{100 * m['coverage']['gan']['min_share']:.1f} %; nearest-training-image distance "
        f"x{m['memorisation']['ratio']:.2f} that of test images"
    )
    # the nearest training image of the first few samples, for the figure
    with torch.no_grad():
        idx = torch.cdist(fake[:N_PAIRS].reshape(N_PAIRS, -1), x_train.reshape(len(x_train), -1))
    nearest = x_train[idx.argmin(1)]

    def u8(x: torch.Tensor) -> np.ndarray:
        return (x[:, 0].clamp(0, 1) * 255).round().to(torch.uint8).numpy()

    arrays = {
        "gan_samples": u8(fake[:N_SHOW]),
        "vae_samples": u8(vae_fake[:N_SHOW]),
        "real_samples": u8(half_a[:N_SHOW]),
        "pairs_sample": u8(fake[:N_PAIRS]),
        "pairs_nearest": u8(nearest),
        "hist_test": hist["test"],
        "hist_gan": hist["gan"],
        "hist_vae": hist["vae"],
        "nearest_gan": d_gan.astype(np.float32),
        "nearest_test": d_test.astype(np.float32),
        "nearest_vae": d_vae.astype(np.float32),
        **{f"gan_{key}": np.array([h[key] for h in gan.history]) for key in gan.history[0]},
    }
    return Result(metrics=m, claims=claims(config, m), arrays=arrays)


def check(config: Config) -> None:
    """Refuse, before a run directory is made, a standard FID that cannot be computed."""
    if config.fid:
        try:
            ev.inception_extractor(config.fid_weights)
        except ev.FidUnavailable as exc:
            raise ValueError(str(exc)) from None


def claims(config: Config, m: dict) -> list[Claim]:
    fd, cov, mem = m["frechet"], m["coverage"], m["memorisation"]
    data = "MNIST" if m["dataset"] == "mnist" else "Fashion-MNIST"
    return [
        Claim(
            slide="DCGAN: a generator learns to make realistic images",
            talk="realistic samples (bedrooms, CIFAR-10; no figure of merit)",
            measured=f"{data}: Fréchet distance in the features of flowlearn's classifier "
            f"{fd['gan']:.2f} for the DCGAN, {fd['vae']:.2f} for a VAE, {fd['real_vs_real']:.2f} "
            f"between two halves of the real test set ({fd['samples']:,} images each); every "
            f"class at least {100 * cov['gan']['min_share']:.1f} % of the samples (test: "
            f"{100 * cov['test']['min_share']:.1f} %)"
            + (
                f"; standard FID {m['fid']['gan']:.2f} / {m['fid']['vae']:.2f} / "
                f"{m['fid']['real_vs_real']:.2f}"
                if "fid" in m
                else ""
            ),
            reproduced=bool(fd["gan"] < fd["vae"] and cov["gan"]["min_share"] >= MIN_CLASS_SHARE),
            reason=M.subset_reason(config, config.epochs)
            + "reproduced when the DCGAN's samples are closer to real images than the VAE's in "
            "the classifier's feature space and every class is at least "
            f"{100 * MIN_CLASS_SHARE:.0f} % of them (no mode collapse); the real-vs-real "
            "distance is what sampling noise "
            "alone gives. This is not the standard FID (Inception-v3 features), which "
            "--set fid=true adds for users who have torch-fidelity and its weights.",
        ),
        Claim(
            slide="DCGAN: it generates, it does not copy",
            talk="new images, not the training set",
            measured=f"median distance of a sample to its nearest training image "
            f"{mem['gan_median']:.2f}, of an unseen test image {mem['test_median']:.2f} "
            f"(x{mem['ratio']:.2f}); VAE {mem['vae_median']:.2f}",
            reproduced=bool(mem["ratio"] >= COPY_RATIO),
            reason="reproduced when the samples are not markedly closer to the training images "
            f"than unseen real images are (ratio of medians >= {COPY_RATIO}).",
        ),
    ]


EXPERIMENT = Experiment(
    name="gan",
    title="DCGAN: generated digits, scored against real ones and a VAE's",
    claim="A generative adversarial network learns to make realistic images (DCGAN).",
    order=115,
    config=Config,
    run=run,
    check=check,
    quick={
        "n_train": 15000,
        "n_test": 2000,
        "epochs": 3,
        "n_eval": 1000,
        "classifier_epochs": 1,
        "vae_epochs": 3,
    },
    runtime_quick="~35 s",
    # measured on 2 CPU cores: quick 32 s; full 6.4 min (MNIST), 11.5 min (Fashion-MNIST, beside
    # another job)
    runtime_full="~6.5 min (MNIST)",
    claims=claims,
)
