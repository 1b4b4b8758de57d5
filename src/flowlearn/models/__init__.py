"""``torch.nn.Module``s only, one file per family (and their ONNX export)."""

import importlib

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
    "vae",
    "zoo",
]


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
