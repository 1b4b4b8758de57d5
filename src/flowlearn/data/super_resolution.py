"""Coarse fields for super-resolution: the same flows simulated on coarser grids, and the fine
fields averaged down, beside the fine LBM fields of a flow dataset.

A flow dataset (:mod:`flowlearn.data.flow_dataset`) holds steady fields on its grid ``(nx, ny)``.
For a coarsening ``scale`` s (any ratio that keeps both sides whole: ``nx / s`` and ``ny / s``
integers), :func:`coarse_run` runs the dataset's LBM recipe for the same body (scaled by 1 / s,
in cells) at the same Reynolds number on the ``(nx / s, ny / s)`` grid: what a CFD engineer
would get from a cheaper simulation. Its cost is timed on one thread from set-up to the steady
state; a run that blows up (the relaxation time nears 1/2 as the body shrinks in cells) or does
not settle is reported, never stored as data. :func:`block_mean` gives the other input that
super-resolution papers use (Fukami, Fukagata & Taira, JFM 2019): the fine field averaged over
s x s blocks (fluid cells only), which no solver produces.

:func:`coarse_set` runs or reads them for every sample of a dataset, cached beside it in one
``.npz`` per (dataset, grid) with the sha256 of its contents checked on reading.

Arrays are ``(..., ny, nx)`` as everywhere in flowlearn (row 0 the bottom wall, column 0 the
inlet); fields are dimensionless (u / U, v / U, p / rho U^2), 0 in solid cells.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from flowlearn.data import flow_dataset as fd

#: Status of a coarse run.
OK, DIVERGED, UNSTEADY, REFUSED = "ok", "diverged", "unsteady", "refused"


def coarse_grid(grid: tuple[int, int], scale: float | Fraction) -> tuple[int, int]:
    """``(nx / s, ny / s)``; ValueError unless both are whole numbers of at least 8 cells."""
    s = Fraction(scale).limit_denominator(64)
    nx, ny = grid
    cx, cy = Fraction(nx) / s, Fraction(ny) / s
    if cx.denominator != 1 or cy.denominator != 1:
        raise ValueError(
            f"a {nx}x{ny} grid does not coarsen by {float(s):g}: {float(cx):g} x {float(cy):g} "
            "cells are not whole numbers"
        )
    if cy < 8:
        raise ValueError(f"coarsening {nx}x{ny} by {float(s):g} leaves {int(cy)} cells across")
    return int(cx), int(cy)


@dataclass
class CoarseRun:
    """One flow on a coarse grid: ``fields (3, ny_c, nx_c)`` (None unless ``status`` is ok),
    the wall-clock ``seconds`` from set-up to steady state on one thread, ``steps``, and
    ``reason`` when it failed."""

    status: str
    fields: np.ndarray | None
    seconds: float
    steps: int
    reason: str = ""


def coarse_spec(spec: fd.FlowDatasetSpec, grid: tuple[int, int]) -> fd.FlowDatasetSpec:
    """``spec`` on another grid: same Reynolds numbers, lattice velocity, steady tolerance and
    flow-through limit (so the same recipe, run cheaper)."""
    from dataclasses import replace

    return replace(spec, grid=grid)


def coarse_run(spec: fd.FlowDatasetSpec, index: int, grid: tuple[int, int]) -> CoarseRun:
    """Sample ``index`` of ``spec`` simulated on ``grid`` (the body scaled with the grid, the
    same Re) by the dataset's recipe, on one thread."""
    from flowlearn.physics import geometry
    from flowlearn.physics.lbm import DivergenceError, StabilityWarning

    shape, _, re = fd.sample_setup(spec, index)
    factor = grid[0] / spec.grid[0]
    small = coarse_spec(spec, grid)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StabilityWarning)
            body = shape if factor == 1 else geometry.scaled(shape, factor)
            case = fd.steady_case(small, body, re, threads=1)
            report = fd.run_to_steady(small, case)
    except DivergenceError as exc:
        return CoarseRun(DIVERGED, None, time.perf_counter() - start, 0, str(exc))
    except ValueError as exc:  # ShapeError too: a body or a setting the solver refuses
        return CoarseRun(REFUSED, None, time.perf_counter() - start, 0, str(exc))
    seconds = time.perf_counter() - start
    if not report.steady:
        return CoarseRun(UNSTEADY, None, seconds, report.steps, "not steady in time")
    fields, _ = case.fields()
    if not np.isfinite(fields).all():
        return CoarseRun(DIVERGED, None, seconds, report.steps, "NaN in the fields")
    return CoarseRun(OK, fields.astype(np.float32), seconds, int(report.steps))


def block_mean(fields: np.ndarray, mask: np.ndarray, scale: int) -> np.ndarray:
    """Fields ``(..., C, H, W)`` averaged over ``scale x scale`` blocks of fluid cells (mask
    True = solid); a block with no fluid is 0. ValueError unless ``scale`` divides H and W."""
    fields = np.asarray(fields, dtype=np.float64)
    h, w = fields.shape[-2:]
    if scale < 1 or int(scale) != scale or h % scale or w % scale:
        raise ValueError(f"block mean by {scale}: it must be an integer dividing {h}x{w}")
    s = int(scale)
    fluid = (~np.asarray(mask, bool)).astype(np.float64)
    fluid = np.broadcast_to(fluid[..., None, :, :], fields.shape)

    def blocks(a: np.ndarray) -> np.ndarray:
        return a.reshape(*a.shape[:-2], h // s, s, w // s, s).sum(axis=(-3, -1))

    count = blocks(fluid)
    return (blocks(fields * fluid) / np.maximum(count, 1)).astype(np.float32)


@dataclass
class CoarseSet:
    """Coarse runs of every sample of a dataset on one grid: ``fields (N, 3, ny_c, nx_c)``
    (zeros where a run failed), ``ok (N,)``, ``seconds (N,)``, ``steps (N,)``, ``status``."""

    grid: tuple[int, int]
    fields: np.ndarray
    ok: np.ndarray
    seconds: np.ndarray
    steps: np.ndarray
    status: np.ndarray

    def counts(self) -> dict[str, int]:
        names, n = np.unique(self.status, return_counts=True)
        return {str(k): int(v) for k, v in zip(names, n, strict=True)}


def _digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(k.encode() + str(a.dtype).encode() + str(a.shape).encode() + a.tobytes())
    return h.hexdigest()


def coarse_set(
    spec: fd.FlowDatasetSpec,
    indices: np.ndarray,
    grid: tuple[int, int],
    folder: Path,
    progress: Callable[[int, int], None] | None = None,
) -> CoarseSet:
    """:func:`coarse_run` for the samples ``indices`` of ``spec`` on ``grid``, read from
    ``folder`` when an earlier run stored them (checked against its sha256; a damaged or
    foreign file is recomputed, never trusted), else computed and stored there atomically."""
    indices = np.asarray(indices, dtype=np.int64)
    key = hashlib.sha256(
        json.dumps([spec.fingerprint, list(grid), indices.tolist()]).encode()
    ).hexdigest()[:16]
    path = Path(folder) / f"coarse-{grid[0]}x{grid[1]}-{key}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files if k != "sha256"}
                stored = str(z["sha256"])
            if stored == _digest(arrays):
                return CoarseSet(grid, **{k: arrays[k] for k in _FIELDS})
        except (OSError, ValueError, KeyError, TypeError):
            pass  # unreadable: recompute below
    runs = []
    for k, i in enumerate(indices):
        runs.append(coarse_run(spec, int(i), grid))
        if progress is not None:
            progress(k + 1, len(indices))
    cx, cy = grid
    fields = np.zeros((len(runs), 3, cy, cx), np.float32)
    for k, r in enumerate(runs):
        if r.fields is not None:
            fields[k] = r.fields
    arrays = {
        "fields": fields,
        "ok": np.array([r.status == OK for r in runs]),
        "seconds": np.array([r.seconds for r in runs]),
        "steps": np.array([r.steps for r in runs], np.int64),
        "status": np.array([r.status for r in runs]),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp.npz")
    np.savez_compressed(tmp, sha256=np.array(_digest(arrays)), **arrays)
    os.replace(tmp, path)
    return CoarseSet(grid, **arrays)


_FIELDS = ("fields", "ok", "seconds", "steps", "status")
