"""The CFD track: the lattice Boltzmann solver's validation and the flow surrogate."""

from flowlearn._lazy import submodules

#: One module per experiment (imported on first use).
__all__ = [
    "flow_surrogate",
    "lbm_validation",
    "rom_comparison",
]

__getattr__ = submodules(__name__, __all__)
