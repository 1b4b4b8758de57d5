"""Packages whose public modules load on first use: importing ``flowlearn.evaluation`` does not
import every metric and benchmark with their dependencies (torch, xarray, the solver)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from types import ModuleType


def submodules(package: str, names: Sequence[str]) -> Callable[[str], ModuleType]:
    """The module ``__getattr__`` of ``package``: ``package.NAME`` imports ``package.NAME`` for
    each of ``names`` (the package's ``__all__``), and is an ``AttributeError`` otherwise."""

    def __getattr__(name: str) -> ModuleType:
        if name in names:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
