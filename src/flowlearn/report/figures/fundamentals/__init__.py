"""Figures of the fundamentals track's experiments."""

from flowlearn._lazy import submodules

#: One module per experiment (imported on first use).
__all__ = [
    "autoencoder",
    "capacity",
    "cartpole",
    "clustering",
    "dimensionality",
    "filters",
    "gan",
    "lenet5",
    "lstm",
    "mnist_best",
    "mnist_mlp",
    "model_zoo",
    "neuron",
    "style",
    "vae",
]

__getattr__ = submodules(__name__, __all__)
