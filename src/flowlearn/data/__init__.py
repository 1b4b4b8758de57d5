"""Data sets: generators, storage, torch ``Dataset``s, downloads with checksums."""

from flowlearn.data.mnist import (
    FASHION_MNIST,
    MNIST,
    DataNotFoundError,
    DigestMismatchError,
    ImageSplit,
    RandomAffine,
)
from flowlearn.data.mnist import load as load_mnist
from flowlearn.data.playground import (
    CLASSIFICATION,
    DATASETS,
    FEATURES,
    REGRESSION,
    domain_grid,
    feature_map,
    make_dataset,
    train_test_split,
)

__all__ = [
    "CLASSIFICATION",
    "DATASETS",
    "FASHION_MNIST",
    "FEATURES",
    "MNIST",
    "REGRESSION",
    "DataNotFoundError",
    "DigestMismatchError",
    "ImageSplit",
    "RandomAffine",
    "domain_grid",
    "feature_map",
    "load_mnist",
    "make_dataset",
    "train_test_split",
]
