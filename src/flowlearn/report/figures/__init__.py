"""Figures of each experiment, drawn from a run's saved metrics and arrays only."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from flowlearn.experiments import RunRecord
from flowlearn.report.figures._base import Figure

Drawer = Callable[[RunRecord], list[Figure]]


def drawer(experiment: str) -> Drawer:
    """``draw`` of the figures module that mirrors the experiment's module: the experiment
    ``flowlearn.experiments.<track>.<name>`` is drawn by ``flowlearn.report.figures.<track>.
    <name>``."""
    from flowlearn.experiments import get

    module = get(experiment).run.__module__.replace(
        "flowlearn.experiments.", "flowlearn.report.figures.", 1
    )
    return importlib.import_module(module).draw


__all__ = ["Drawer", "Figure", "drawer"]
