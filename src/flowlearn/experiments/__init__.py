"""One module per experiment of the talk; :data:`REGISTRY` lists them in the talk's order.

Public surface: :func:`get`, :func:`names`, :data:`REGISTRY`, the contract classes and the run
machinery (:func:`execute`, :func:`load_run`, :func:`build_config`).
"""

from __future__ import annotations

import importlib

from flowlearn.experiments._base import Claim, Experiment, ExperimentConfig, Result
from flowlearn.experiments._config import ConfigError, build_config
from flowlearn.experiments._runs import RunRecord, execute, load_run, new_run_dir

# Modules holding an ``EXPERIMENT`` record; the tour sorts them by ``Experiment.order``.
_MODULES = (
    "capacity",
    "dimensionality",
    "filters",
    "neuron",
)


def _load() -> dict[str, Experiment]:
    found = []
    for module in _MODULES:
        found.append(importlib.import_module(f"flowlearn.experiments.{module}").EXPERIMENT)
    return {e.name: e for e in sorted(found, key=lambda e: e.order)}


REGISTRY: dict[str, Experiment] = _load()


def names() -> list[str]:
    return list(REGISTRY)


def get(name: str) -> Experiment:
    """The experiment called ``name``; a ``KeyError`` names the valid ones otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(
            f"unknown experiment {name!r}; valid names: {', '.join(REGISTRY)}"
        ) from None


__all__ = [
    "REGISTRY",
    "Claim",
    "ConfigError",
    "Experiment",
    "ExperimentConfig",
    "Result",
    "RunRecord",
    "build_config",
    "execute",
    "get",
    "load_run",
    "names",
    "new_run_dir",
]
