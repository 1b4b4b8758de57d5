"""Metrics, generalisation sweeps, physics diagnostics, speed benchmarks."""

import importlib

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


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
