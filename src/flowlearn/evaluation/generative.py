"""Scoring generated images with numbers rather than a gallery alone.

- :func:`frechet_distance`: the Fréchet distance between two Gaussians fitted to features of two
  image sets (Heusel et al. 2017's FID when the features are Inception-v3's pool features; here
  any feature extractor, e.g. flowlearn's own MNIST classifier). It is only readable beside a
  baseline: the distance between two halves of the real test set.
- :func:`class_histogram`: the share of samples a classifier puts in each class (mode coverage).
- :func:`nearest_distances`: each sample's Euclidean distance to its nearest training image, the
  memorisation check: a generator that copies its training set sits much closer to it than
  unseen real images do.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import linalg


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
