"""Scoring generated images with numbers rather than a gallery alone.

- :func:`frechet_distance`: the Fréchet distance between two Gaussians fitted to features of two
  image sets (Heusel et al. 2017's FID when the features are Inception-v3's pool features; here
  any feature extractor, e.g. flowlearn's own MNIST classifier). It is only readable beside a
  baseline: the distance between two halves of the real test set.
- :func:`class_histogram`: the share of samples a classifier puts in each class (mode coverage).
- :func:`nearest_distances`: each sample's Euclidean distance to its nearest training image, the
  memorisation check: a generator that copies its training set sits much closer to it than
  unseen real images do.
- :func:`inception_features`: the standard FID's feature space (Inception-v3's 2048 pool
  features, TensorFlow's 2015 FID weights as torch-fidelity converted them), for users who can
  install ``flowlearn[fid]`` (torch-fidelity, which brings torchvision) and download the weights;
  they are checked against their sha256 before use (:func:`inception_weights`).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch
from scipy import linalg

#: torch-fidelity's Inception-v3 for FID (TensorFlow's 2015-12-05 weights, converted), and the
#: file's sha256 (its name carries the first 8 digits, torch.hub's convention).
INCEPTION_URL = (
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
    "weights-inception-2015-12-05-6726825d.pth"
)
INCEPTION_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"


class FidUnavailable(RuntimeError):
    """The standard FID cannot be computed here: torch-fidelity or the weights are missing."""


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` of features ``(n, d)``."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"two feature sets (n, d) with n >= 2 expected, got {a.shape}, {b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root, _ = linalg.sqrtm(s_a @ s_b, disp=False)
    if not np.isfinite(root).all():  # singular product: regularise, as the reference FID does
        eps = 1e-6 * np.eye(len(s_a))
        root = linalg.sqrtm((s_a + eps) @ (s_b + eps))
    root = np.real(root)
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(s_a + s_b - 2 * root))


def class_histogram(logits: np.ndarray, classes: int = 10) -> np.ndarray:
    """Share of the samples given to each class (argmax of the classifier's logits)."""
    pred = np.asarray(logits).argmax(1)
    return np.bincount(pred, minlength=classes) / max(1, len(pred))


@torch.no_grad()
def nearest_distances(
    samples: torch.Tensor, reference: torch.Tensor, chunk: int = 512
) -> np.ndarray:
    """For each sample ``(n, ...)``, the Euclidean distance to its nearest reference image."""
    s = samples.reshape(len(samples), -1).float()
    r = reference.reshape(len(reference), -1).float()
    out = []
    for i in range(0, len(s), chunk):
        out.append(torch.cdist(s[i : i + chunk], r).min(1).values)
    return torch.cat(out).numpy()


def _missing(why: str) -> str:
    return (
        f"the standard FID is not available: {why}. It needs torch-fidelity (pip install "
        f"'flowlearn[fid]', which brings torchvision and its paired torch) and Inception-v3's FID "
        f"weights, {INCEPTION_URL} (sha256 {INCEPTION_SHA256[:16]}...), downloaded on first use "
        "or passed as a file. Without them flowlearn scores samples in its own classifier's "
        "feature space, which needs nothing."
    )


def inception_weights(path: str | os.PathLike | None = None, download: bool = True) -> Path:
    """The FID Inception weights' file, checked: ``path``, else torch.hub's cache (downloaded
    there when allowed). FidUnavailable when missing, ValueError when the sha256 differs."""
    if path is None:
        path = Path(torch.hub.get_dir()) / "checkpoints" / Path(INCEPTION_URL).name
        if not path.is_file() and download:
            try:
                torch.hub.download_url_to_file(INCEPTION_URL, str(path), hash_prefix="6726825d")
            except Exception as exc:  # no network, refused, truncated: say what to do
                raise FidUnavailable(_missing(f"download failed ({exc})")) from None
    path = Path(path)
    if not path.is_file():
        raise FidUnavailable(_missing(f"{path}: no such file"))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != INCEPTION_SHA256:
        raise ValueError(
            f"{path}: sha256 {digest[:16]}... is not that of the FID Inception weights "
            f"({INCEPTION_SHA256[:16]}...): another file or a damaged copy"
        )
    return path


def inception_extractor(weights: str | os.PathLike | None = None, download: bool = True):
    """torch-fidelity's Inception-v3 FID feature extractor (pool features, 2048) with checked
    weights; FidUnavailable when torch-fidelity is not installed or the weights are missing."""
    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    except ImportError as exc:
        raise FidUnavailable(_missing(f"torch-fidelity is not installed ({exc})")) from None
    path = inception_weights(weights, download)
    return FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048"], feature_extractor_weights_path=str(path)
    )


@torch.no_grad()
def inception_features(images: torch.Tensor, extractor, batch: int = 100) -> np.ndarray:
    """Pool features ``(n, 2048)`` of images ``(n, 1 | 3, H, W)`` in [0, 1] (grey is repeated to
    RGB; the extractor resizes to 299 x 299 as the reference FID does)."""
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"images (n, 1 or 3, H, W) expected, got {tuple(images.shape)}")
    out = []
    for i in range(0, len(images), batch):
        x = (images[i : i + batch].clamp(0, 1) * 255).round().to(torch.uint8)
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        out.append(extractor(x)[0].double().numpy())
    return np.concatenate(out)
