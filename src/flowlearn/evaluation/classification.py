"""Classification and clustering scores: accuracy, confusion matrix, purity, NMI, naming clusters
from a few labels."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import normalized_mutual_info_score
from torch import nn


def accuracy_metric(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Fraction of the batch whose arg-max class is the target (a ``SupervisedModule`` metric)."""
    return (logits.argmax(1) == target).float().mean()


@torch.no_grad()
def predict(
    model: nn.Module, x: torch.Tensor, batch_size: int = 1000, device: str = "cpu"
) -> torch.Tensor:
    """``model(x)`` in eval mode, by batches, on ``device``; returns a CPU tensor."""
    model.eval().to(device)
    outs = [model(x[i : i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)]
    return torch.cat(outs) if outs else torch.empty(0)


def confusion_matrix(truth: np.ndarray, predicted: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """(n_classes, n_classes) int64 counts: row = true class, column = predicted class."""
    truth, predicted = np.asarray(truth), np.asarray(predicted)
    out = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(out, (truth, predicted), 1)
    return out


def purity(truth: np.ndarray, clusters: np.ndarray) -> float:
    """Fraction of points whose cluster's majority class is their class (1 = pure clusters)."""
    truth, clusters = np.asarray(truth), np.asarray(clusters)
    total = 0
    for c in np.unique(clusters):
        total += np.bincount(truth[clusters == c]).max()
    return float(total / len(truth))


def nmi(truth: np.ndarray, clusters: np.ndarray) -> float:
    """Normalised mutual information between classes and clusters (0 = independent, 1 = same)."""
    return float(normalized_mutual_info_score(truth, clusters))


def name_clusters(
    clusters_of_labelled: np.ndarray,
    labels: np.ndarray,
    centroids: np.ndarray,
    labelled_points: np.ndarray,
) -> np.ndarray:
    """A class name for every cluster from a few labelled points: the majority label of the
    labelled points in the cluster; a cluster without any takes the label of the labelled point
    nearest its centroid. Returns (n_clusters,) int labels."""
    n_clusters = len(centroids)
    names = np.empty(n_clusters, dtype=np.int64)
    for c in range(n_clusters):
        inside = labels[clusters_of_labelled == c]
        if inside.size:
            names[c] = np.bincount(inside).argmax()
        else:
            d = ((labelled_points - centroids[c]) ** 2).sum(1)
            names[c] = labels[np.argmin(d)]
    return names


def worst_examples(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` largest scores (largest first)."""
    return np.argsort(-np.asarray(scores), kind="stable")[:n]
