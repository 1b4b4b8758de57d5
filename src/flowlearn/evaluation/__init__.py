"""Metrics, generalisation sweeps, physics diagnostics, speed benchmarks."""

from flowlearn._lazy import submodules

#: The public modules of this package (imported on first use, so that importing one of them
#: does not import the others and their dependencies).
__all__ = [
    "capacity",
    "classification",
    "flow_metrics",
    "geometry_of_high_dimensions",
    "lbm_bench",
    "surrogate_bench",
    "surrogate_scorecard",
]

__getattr__ = submodules(__name__, __all__)
