"""Figures of each experiment, drawn from a run's saved metrics and arrays only."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure

Drawer = Callable[[RunRecord], list[Figure]]


def drawer(experiment: str) -> Drawer:
    """``draw`` of ``flowlearn.report.figures.<experiment>`` (dashes become underscores)."""
    module = importlib.import_module(f"flowlearn.report.figures.{experiment.replace('-', '_')}")
    return module.draw


__all__ = ["Drawer", "Figure", "drawer"]
