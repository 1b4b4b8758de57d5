"""``torch.nn.Module``s only, one file per family (and their ONNX export)."""

from flowlearn._lazy import submodules

#: The public modules of this package (imported on first use, so that importing one of them
#: does not import the others and their dependencies).
__all__ = [
    "autoencoder",
    "cnn",
    "flow",
    "lenet",
    "mlp",
    "onnx",
    "rnn",
    "super_resolution",
    "vae",
    "wake_autoencoder",
    "zoo",
]

__getattr__ = submodules(__name__, __all__)
