"""The CFD track: the lattice Boltzmann solver's validation, the flow surrogate, flow
post-processing and chemistry."""

from flowlearn._lazy import submodules

#: One module per experiment (imported on first use).
__all__ = [
    "chemistry",
    "flow_surrogate",
    "lbm_validation",
    "pix2pix_flow",
    "rom_comparison",
    "super_resolution",
    "tbnn",
]

__getattr__ = submodules(__name__, __all__)
