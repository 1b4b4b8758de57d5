"""The CFD track: the lattice Boltzmann solver's validation and the flow surrogate."""

import importlib

#: One module per experiment (imported on first use).
__all__ = [
    "flow_surrogate",
    "lbm_validation",
]


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
