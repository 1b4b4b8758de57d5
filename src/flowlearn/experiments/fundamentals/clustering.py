"""Unsupervised learning: "Do you find similar elements? Good! That's called a cat", then
"learn the names for them quickly".

k-means (scikit-learn) groups the digits, without labels, in three representations: raw pixels,
PCA components, and the 128-number codes of the talk's convolutional autoencoder trained here
(also without labels). The clusters are scored against the true digits by purity and normalised
mutual information (NMI). Then each cluster is *named* from only 1, 5 or 10 labelled images per
class (majority vote of the labelled images it holds), and the accuracy of that naming on the
test set is compared with a classifier (logistic regression, same representation) trained on
only those labelled images. Means over ``repeats`` draws of the labelled images.

Run: ``flowlearn run clustering --quick`` or ``flowlearn run clustering``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from pydantic import Field
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from torch.nn import functional as F

from flowlearn.data.mnist import to_tensor
from flowlearn.evaluation.classification import (
    confusion_matrix,
    name_clusters,
    nmi,
    predict,
    purity,
)
from flowlearn.experiments._base import Claim, Experiment, Result
from flowlearn.experiments.fundamentals import _mnist as M
from flowlearn.models.autoencoder import ConvAutoencoder
from flowlearn.training import resolve_device

SHOTS = (1, 5, 10)
#: clusters are "similar elements" when at least this fraction of each is its majority digit
PURITY_THRESHOLD = 0.5
REPRESENTATIONS = ("pixels", "pca", "autoencoder")


class Config(M.MnistConfig):
    n_train: int | None = Field(
        20_000, ge=100, le=60_000, description="unlabelled training images clustered"
    )
    n_clusters: int = Field(10, ge=2, le=500, description="k of k-means; 10 = one per digit")
    n_init: int = Field(4, ge=1, le=100, description="k-means restarts (best inertia is kept)")
    pca_components: int = Field(50, ge=1, le=784, description="PCA components kept")
    ae_epochs: int = Field(10, ge=0, le=500, description="autoencoder epochs (0: no AE codes)")
    repeats: int = Field(10, ge=1, le=1000, description="draws of the few labelled images")


def run(config: Config, run_dir: Path) -> Result:
    device = resolve_device(config.device)
    train, test = M.load(config, "train"), M.load(config, "test")
    x_train = train.images.reshape(len(train), -1).astype(np.float32) / 255
    x_test = test.images.reshape(len(test), -1).astype(np.float32) / 255
    features = {"pixels": (x_train, x_test)}
    pca = PCA(config.pca_components, random_state=config.seed).fit(x_train)
    features["pca"] = (pca.transform(x_train), pca.transform(x_test))
    metrics: dict = {
        "n_train": len(train),
        "n_test": len(test),
        "pca_explained_variance": float(pca.explained_variance_ratio_.sum()),
    }
    arrays: dict[str, np.ndarray] = {}
    if config.ae_epochs:
        codes, ae_metrics, history = _autoencoder_codes(config, train, test, run_dir, device)
        features["autoencoder"] = codes
        metrics.update(ae_metrics)
        arrays.update(M.curves(history, prefix="ae_"))

    rng = np.random.default_rng(config.seed)
    draws = {k: [_labelled(train.labels, k, rng) for _ in range(config.repeats)] for k in SHOTS}
    for rep, (f_train, f_test) in features.items():
        km = KMeans(config.n_clusters, n_init=config.n_init, random_state=config.seed)
        c_train = km.fit_predict(f_train)
        c_test = km.predict(f_test)
        metrics[f"{rep}_purity"] = purity(test.labels, c_test)
        metrics[f"{rep}_nmi"] = nmi(test.labels, c_test)
        metrics[f"{rep}_train_purity"] = purity(train.labels, c_train)
        for k in SHOTS:
            named, clf = [], []
            for idx in draws[k]:
                names = name_clusters(
                    c_train[idx], train.labels[idx], km.cluster_centers_, f_train[idx]
                )
                named.append(float((names[c_test] == test.labels).mean()))
                lr = LogisticRegression(max_iter=500).fit(f_train[idx], train.labels[idx])
                clf.append(float(lr.score(f_test, test.labels)))
            metrics[f"{rep}_named_{k}"] = float(np.mean(named))
            metrics[f"{rep}_classifier_{k}"] = float(np.mean(clf))
            if k == SHOTS[-1]:
                metrics[f"{rep}_named_{k}_std"] = float(np.std(named))
        names = name_clusters(c_train, train.labels, km.cluster_centers_, f_train)  # all labels
        arrays[f"{rep}_confusion"] = confusion_matrix(test.labels, names[c_test])
        if rep == "pixels":
            arrays["pixel_centroids"] = (km.cluster_centers_.reshape(-1, 28, 28) * 255).astype(
                np.uint8
            )
            arrays["pixel_cluster_examples"] = _examples(test.images, c_test, config.n_clusters)
    metrics["representations"] = list(features)
    return Result(metrics=metrics, claims=claims(config, metrics), arrays=arrays)


def _labelled(labels: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``k`` random images of each class."""
    return np.concatenate(
        [rng.choice(np.flatnonzero(labels == c), k, replace=False) for c in range(10)]
    )


def _examples(images: np.ndarray, clusters: np.ndarray, k: int, per: int = 8) -> np.ndarray:
    """(min(k, 10), per, 28, 28) uint8: the first ``per`` test images of each cluster."""
    out = np.zeros((min(k, 10), per, 28, 28), np.uint8)
    for c in range(min(k, 10)):
        idx = np.flatnonzero(clusters == c)[:per]
        out[c, : len(idx)] = images[idx]
    return out


def _autoencoder_codes(config, train, test, run_dir, device):
    x_train, x_test = to_tensor(train.images), to_tensor(test.images)
    model = ConvAutoencoder()
    module = M.TunedModule(
        model, loss=F.binary_cross_entropy, optimizer="adadelta", lr=1.0, config=config,
        dataset_fingerprint=train.fingerprint(), optimizer_options={"rho": 0.95, "eps": 1e-7},
    )  # fmt: skip
    history = M.train(
        module,
        M.loader(x_train, x_train, config.batch_size, True, config.seed),
        M.loader(x_test, x_test, 1000, shuffle=False),
        run_dir / "autoencoder",
        config.ae_epochs,
        device,
    )
    with torch.no_grad():
        codes = [
            predict(model.encoder, x, device=device).flatten(1).numpy() for x in (x_train, x_test)
        ]
    return tuple(codes), {"ae_val_loss": float(history[-1]["val_loss"])}, history


def claims(config: Config, m: dict) -> list[Claim]:
    reps = m["representations"]
    best = max(reps, key=lambda r: m[f"{r}_purity"])
    quick = M.subset_reason(config, config.ae_epochs) if config.quick else ""
    scores = "; ".join(f"{r}: purity {m[f'{r}_purity']:.3f}, NMI {m[f'{r}_nmi']:.3f}" for r in reps)
    k = SHOTS[0]
    wins = [r for r in reps if m[f"{r}_named_{k}"] > m[f"{r}_classifier_{k}"]]
    named, classifier = m[f"{best}_named_{k}"], m[f"{best}_classifier_{k}"]
    few = "; ".join(
        f"{r}: named " + "/".join(f"{100 * m[f'{r}_named_{s}']:.1f}" for s in SHOTS)
        + " % vs classifier " + "/".join(f"{100 * m[f'{r}_classifier_{s}']:.1f}" for s in SHOTS)
        + " %"
        for r in reps
    )  # fmt: skip
    return [
        Claim(
            slide="Do you find similar elements? Good! That's called a cat",
            talk="clusters found without labels are the digits",
            measured=f"purity {m[f'{best}_purity']:.3f}, NMI {m[f'{best}_nmi']:.3f} ({best})",
            reproduced=m[f"{best}_purity"] >= PURITY_THRESHOLD,
            reason=quick
            + f"k-means, k = {config.n_clusters}, on {m['n_train']} unlabelled images, scored "
            f"on {m['n_test']} test images (chance purity ~0.11); reproduced when the best "
            f"purity reaches {PURITY_THRESHOLD}. {scores}.",
        ),
        Claim(
            slide="Learn the names for them quickly",
            talk="a few labels name the clusters",
            measured=f"{100 * named:.1f} % with {k} label per class ({best}) vs "
            f"{100 * classifier:.1f} % for a classifier on those labels",
            reproduced=bool(named > classifier),
            reason=f"accuracy on the test set, mean of {config.repeats} draws, with "
            f"{'/'.join(map(str, SHOTS))} labelled images per class: {few}. Reproduced when "
            f"naming the clusters beats the classifier with {k} label per class in the "
            f"representation whose clusters are purest, {best} (it does in: "
            f"{', '.join(wins) or 'none'}). Naming cannot exceed the purity of the clusters; "
            "the classifier overtakes it as labels grow.",
        ),
    ]


EXPERIMENT = Experiment(
    name="clustering",
    title="Clustering digits without labels, then naming the clusters",
    claim="Do you find similar elements? Good! That's called a cat. Then learn the names for "
    "them quickly.",
    order=100,
    config=Config,
    run=run,
    quick={"n_train": 3000, "n_test": 1000, "ae_epochs": 2, "repeats": 3, "n_init": 1},
    runtime_quick="~40-75 s",
    runtime_full="~6 min (372 s measured)",
    claims=claims,
)
