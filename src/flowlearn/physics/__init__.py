"""Solvers and physical models: lattice Boltzmann, geometry, shape families."""

import importlib

#: The public modules of this package (imported on first use, so that importing one of them
#: does not import the others and their dependencies).
__all__ = [
    "body_files",
    "geometry",
    "lbm",
    "shape_families",
]


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
