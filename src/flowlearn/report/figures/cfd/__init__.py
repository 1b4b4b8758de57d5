"""Figures of the CFD track's experiments."""

from flowlearn._lazy import submodules

#: One module per experiment (imported on first use).
__all__ = [
    "flow_control",
    "flow_surrogate",
    "lbm_validation",
    "pix2pix_flow",
    "rom_comparison",
    "super_resolution",
    "surrogate_models",
    "tbnn",
]

__getattr__ = submodules(__name__, __all__)
