"""The CFD track: the lattice Boltzmann solver's validation, the flow surrogate, flow
post-processing, generative models on flows, chemistry, turbulence closures and flow control."""

from flowlearn._lazy import submodules

#: One module per experiment (imported on first use).
__all__ = [
    "chemistry",
    "flow_control",
    "flow_surrogate",
    "lbm_validation",
    "pix2pix_flow",
    "rom_comparison",
    "super_resolution",
    "tbnn",
]

__getattr__ = submodules(__name__, __all__)
