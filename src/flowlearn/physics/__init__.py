"""Solvers and physical models: lattice Boltzmann, geometry, shape families, chemistry."""

from flowlearn._lazy import submodules

#: The public modules of this package (imported on first use, so that importing one of them
#: does not import the others and their dependencies).
__all__ = [
    "body_files",
    "chemistry",
    "geometry",
    "lbm",
    "shape_families",
]

__getattr__ = submodules(__name__, __all__)
