"""Figures of the fundamentals track's experiments."""

import importlib

#: One module per experiment (imported on first use).
__all__ = [
    "autoencoder",
    "capacity",
    "clustering",
    "dimensionality",
    "filters",
    "lenet5",
    "lstm",
    "mnist_best",
    "mnist_mlp",
    "model_zoo",
    "neuron",
    "vae",
]


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
