"""Argument parsers and output checks the commands share: grids, Reynolds ranges, shape
families, dataset names, and outputs refused before any computing."""

from __future__ import annotations

import math
import os
import re as regex
from pathlib import Path
from typing import Annotated

import typer

from flowlearn.cli._console import fail as _fail


def parse_grid(text: str) -> tuple[int, int]:
    """``"256x128"`` -> ``(256, 128)`` (cells along x, then y); exit 2 on anything else."""
    m = regex.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text or "")
    if not m:
        raise _fail(
            f"grid {text!r} is not NXxNY (cells along x, then along y), e.g. 256x128 or 64x32"
        )
    nx, ny = int(m.group(1)), int(m.group(2))
    if nx < 1 or ny < 1:
        raise _fail(f"grid {text!r}: both sizes must be positive")
    return nx, ny


def parse_re_range(text: str) -> tuple[float, float]:
    """``"10:40"`` -> ``(10.0, 40.0)``; one number gives a single Reynolds number."""
    parts = (text or "").split(":")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) == 1:
        values = values * 2
    if len(values) != 2 or not all(math.isfinite(v) for v in values):
        raise _fail(f"Reynolds range {text!r} is not LO:HI (two numbers), e.g. 10:40")
    lo, hi = values
    if not 0 < lo <= hi:
        raise _fail(f"Reynolds range {text!r} must satisfy 0 < LO <= HI")
    return lo, hi


def parse_families(text: str) -> tuple[str, ...]:
    """Comma-separated family names; ``train`` (the default run's training families and
    regimes), ``primitives`` and ``heldout`` stand for those groups."""
    from flowlearn.physics.shape_families import (
        DEFAULT_TRAIN_FAMILIES,
        FAMILIES,
        HELDOUT_FAMILIES,
        TRAIN_FAMILIES,
    )

    out: list[str] = []
    for name in (p.strip() for p in (text or "").split(",")):
        if not name:
            continue
        groups = {
            "train": DEFAULT_TRAIN_FAMILIES,
            "primitives": TRAIN_FAMILIES,
            "heldout": HELDOUT_FAMILIES,
        }
        group = groups.get(name, (name,))
        out += [f for f in group if f not in out]
    unknown = [f for f in out if f not in FAMILIES]
    if unknown:
        raise _fail(
            f"unknown shape famil{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}; "
            f"valid: {', '.join(FAMILIES)} (or train = {','.join(DEFAULT_TRAIN_FAMILIES)}, "
            f"primitives = {','.join(TRAIN_FAMILIES)}, heldout = {','.join(HELDOUT_FAMILIES)})"
        )
    if not out:
        raise _fail(f"no shape family given; valid: {', '.join(FAMILIES)}")
    return tuple(out)


#: A dataset argument: a name in the cache or a path (:func:`dataset_path`).
Name = Annotated[
    str,
    typer.Argument(
        help="Dataset name (stored as <cache>/flow-datasets/NAME.zarr, cache = $XDG_CACHE_HOME/"
        "flowlearn or ~/.cache/flowlearn) or a path ending in .zarr or holding a '/'."
    ),
]


def dataset_path(name: str) -> Path:
    """A path if ``name`` ends in ``.zarr`` or holds a ``/``; else the cache's
    ``flow-datasets/NAME.zarr`` (:func:`flowlearn.data.cache.named_dataset`)."""
    from flowlearn.data.cache import named_dataset

    if name.endswith(".zarr") or "/" in name or os.sep in name:
        return Path(name).expanduser()
    return named_dataset(name)


def check_output(path: Path, kind: str, suffixes: tuple[str, ...], overwrite: bool) -> Path:
    """Refuse, before computing, an output of ``kind`` that could not or must not be written
    (:func:`flowlearn.safety.check_target`): one line, exit 2."""
    from flowlearn.safety import OutputError, check_target

    try:
        return check_target(path, what="output", kind=kind, suffixes=suffixes, overwrite=overwrite)
    except OutputError as exc:
        raise _fail(str(exc)) from None


def check_outputs(targets: list[tuple[Path, str, tuple[str, ...]]], overwrite: bool) -> None:
    """:func:`check_output` for several ``(path, kind, suffixes)``."""
    for path, kind, suffixes in targets:
        check_output(path, kind, suffixes, overwrite)
