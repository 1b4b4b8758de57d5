"""One module per experiment of the talk, grouped by the talk's tracks (``fundamentals/``: the
basics of deep learning on toy data and MNIST; ``cfd/``: flows made by flowlearn's solver);
:func:`registry` lists them in the talk's order.

Public surface: :func:`get`, :func:`names`, :func:`registry`, the contract classes and the run
machinery (:func:`execute`, :func:`load_run`, :func:`build_config`).
"""

from __future__ import annotations

import importlib
from functools import cache

from flowlearn.experiments._base import Claim, Experiment, ExperimentConfig, Result
from flowlearn.experiments._config import ConfigError, build_config
from flowlearn.experiments._runs import (
    RunDirError,
    RunRecord,
    execute,
    jsonable,
    load_run,
    new_run_dir,
)
from flowlearn.training import resolve_device
from flowlearn.training.launch import LaunchError, launch_rank

# Modules holding an ``EXPERIMENT`` record; the tour sorts them by ``Experiment.order``.
_MODULES = (
    "fundamentals.capacity",
    "fundamentals.dimensionality",
    "fundamentals.filters",
    "fundamentals.neuron",
    "fundamentals.mnist_mlp",
    "fundamentals.lenet5",
    "fundamentals.mnist_best",
    "fundamentals.model_zoo",
    "fundamentals.autoencoder",
    "fundamentals.clustering",
    "fundamentals.vae",
    "fundamentals.gan",
    "fundamentals.style",
    "fundamentals.lstm",
    "fundamentals.cartpole",
    "cfd.lbm_validation",
    "cfd.flow_surrogate",
    "cfd.surrogate_models",
    "cfd.rom_comparison",
    "cfd.super_resolution",
    "cfd.pix2pix_flow",
    "cfd.chemistry",
    "cfd.tbnn",
    "cfd.flow_control",
)


@cache
def registry() -> dict[str, Experiment]:
    """Every experiment, in the talk's order (modules are imported on first use)."""
    found = []
    for module in _MODULES:
        found.append(importlib.import_module(f"flowlearn.experiments.{module}").EXPERIMENT)
    return {e.name: e for e in sorted(found, key=lambda e: e.order)}


def names() -> list[str]:
    return list(registry())


def get(name: str) -> Experiment:
    """The experiment called ``name``; a ``KeyError`` names the valid ones otherwise."""
    try:
        return registry()[name]
    except KeyError:
        raise KeyError(
            f"unknown experiment {name!r}; valid names: {', '.join(registry())}"
        ) from None


__all__ = [
    "Claim",
    "ConfigError",
    "Experiment",
    "ExperimentConfig",
    "LaunchError",
    "Result",
    "RunDirError",
    "RunRecord",
    "build_config",
    "execute",
    "get",
    "jsonable",
    "launch_rank",
    "load_run",
    "names",
    "new_run_dir",
    "registry",
    "resolve_device",
]
