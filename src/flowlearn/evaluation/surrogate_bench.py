"""Speed of a flow surrogate against the lattice Boltzmann solver it replaces.

Both are measured in one process, on this machine, on the same grid and the same bodies:

- **LBM**: seconds per sample to steady state with :func:`~flowlearn.data.flow_dataset.
  compute_sample` (set-up, run, fields), exactly as a dataset sample is made. One untimed
  warm-up sample first, so the kernels' just-in-time compilation is not counted. Only samples
  that reached a steady state count towards the mean; the others (diverged, unsteady, invalid)
  are counted and reported.
- **Surrogate**: seconds per sample of :meth:`~flowlearn.training.surrogate.FlowSurrogate.
  predict` (normalisation, every ensemble member, de-normalisation) under
  ``torch.inference_mode``, from ready SDF and mask inputs (as Guo et al. 2016 time it), at
  batch 1 (mean over several single-sample calls) and at larger batches (the given bodies
  repeated to fill the batch). One warm-up call per batch size first.

Both run on the same number of threads (one each by default): the LBM's OpenMP kernels and
torch's intra-op pool. One core each is the fair unit here: LBM samples run side by side, one
per core, when a dataset is made (a lattice of a few thousand cells gains little from a second
thread), and batches of a network do the same.

The speed-up is ``lbm seconds / surrogate seconds`` per sample at each batch size.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from flowlearn.data.flow_dataset import (
    OK,
    STATUS_NAMES,
    FlowDatasetSpec,
    compute_sample,
    sample_setup,
)

if TYPE_CHECKING:
    from flowlearn.training.surrogate import FlowSurrogate

__all__ = ["bench", "surrogate_inputs", "time_lbm", "time_surrogate", "untrained_surrogate"]

#: Single-sample calls timed at batch 1 at most (beyond ``repeats``): different bodies, and a
#: bounded time on a large test split.
BATCH1_BODIES = 20


def time_lbm(
    spec: FlowDatasetSpec,
    indices: Sequence[int],
    threads: int | None = None,
    *,
    stop_after_ok: int | None = None,
    progress: Callable[[int, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Wall time of the LBM to steady state for samples ``indices`` of ``spec``.

    A warm-up sample (``indices[0]``, untimed) runs first. ``threads``: OpenMP threads of the
    kernels (None: all cores of this process). ``stop_after_ok``: stop once that many samples
    reached a steady state. ``progress(index, record)`` after each timed sample.

    Returns ``mean_s`` (over the steady samples; NaN if none), ``seconds`` / ``steps`` /
    ``status`` per timed sample, ``indices``, ``ok`` and ``not_ok`` (counts) and
    ``warmup_s``.
    """
    indices = [int(i) for i in indices]
    if not indices:
        raise ValueError("time_lbm needs at least one sample index")
    start = time.perf_counter()
    compute_sample(spec, indices[0], threads)
    warmup = time.perf_counter() - start
    seconds: list[float] = []
    steps: list[int] = []
    codes: list[str] = []
    timed: list[int] = []
    for i in indices:
        start = time.perf_counter()
        s = compute_sample(spec, i, threads)
        elapsed = time.perf_counter() - start
        seconds.append(elapsed)
        steps.append(int(s.scalars.get("steps", 0)))
        codes.append(STATUS_NAMES[s.status])
        timed.append(i)
        if progress is not None:
            progress(i, {"seconds": elapsed, "status": codes[-1], "steps": steps[-1]})
        if stop_after_ok is not None and codes.count(STATUS_NAMES[OK]) >= stop_after_ok:
            break
    ok = [t for t, c in zip(seconds, codes, strict=True) if c == STATUS_NAMES[OK]]
    return {
        "mean_s": float(np.mean(ok)) if ok else math.nan,
        "seconds": seconds,
        "steps": steps,
        "status": codes,
        "indices": timed,
        "ok": len(ok),
        "not_ok": len(seconds) - len(ok),
        "warmup_s": warmup,
        "threads": threads,
    }


def surrogate_inputs(
    spec: FlowDatasetSpec, indices: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SDF ``(N, ny, nx)`` (cells), solid mask (``sdf < 0`` at cell centres) and Reynolds
    numbers ``(N,)`` of samples ``indices`` of ``spec``: the bodies the LBM timed."""
    nx, ny = spec.grid
    sdfs, res = [], []
    for i in indices:
        shape, _, re = sample_setup(spec, int(i))
        sdfs.append(shape.sample(nx, ny, 1.0).astype(np.float32))
        res.append(re)
    sdf = np.stack(sdfs)
    return sdf, sdf < 0, np.asarray(res, dtype=np.float32)


def time_surrogate(
    surrogate: FlowSurrogate,
    sdf: np.ndarray,
    mask: np.ndarray,
    re: np.ndarray | float,
    batch_sizes: Sequence[int] = (1, 64),
    repeats: int = 5,
    threads: int | None = None,
) -> dict[str, Any]:
    """Seconds per sample of ``surrogate.predict`` at each of ``batch_sizes``, on ``threads``
    torch threads (None: torch's current setting, all cores by default).

    ``sdf`` / ``mask`` ``(N, ny, nx)`` and ``re`` ``(N,)`` (or one) are the bodies; a batch of
    ``b`` repeats them cyclically. Batch 1: the mean of ``max(repeats, min(N,
    BATCH1_BODIES))`` single-sample calls (cycling through the bodies; the cap bounds the time a
    large test split takes); batch ``b > 1``: ``repeats`` calls on one batch, time / b. One
    untimed warm-up call per batch size. Returns ``{"per_sample_s": {b: s}, "repeats",
    "members", "torch_threads"}``.
    """
    import torch

    sdf = np.asarray(sdf, dtype=np.float32)
    mask = np.asarray(mask)
    if sdf.ndim == 2:
        sdf, mask = sdf[None], mask[None]
    n = len(sdf)
    re = np.broadcast_to(np.asarray(re, dtype=np.float32).reshape(-1), (n,))
    if repeats < 1:
        raise ValueError(f"repeats = {repeats} must be at least 1")
    previous = torch.get_num_threads()
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads = {threads} must be at least 1")
        torch.set_num_threads(int(threads))
    try:
        per_sample = _time_batches(surrogate, sdf, mask, re, batch_sizes, repeats)
        used = torch.get_num_threads()
    finally:
        torch.set_num_threads(previous)
    return {
        "per_sample_s": per_sample,
        "repeats": repeats,
        "members": len(surrogate.members),
        "torch_threads": used,
    }


def _time_batches(
    surrogate: FlowSurrogate,
    sdf: np.ndarray,
    mask: np.ndarray,
    re: np.ndarray,
    batch_sizes: Sequence[int],
    repeats: int,
) -> dict[int, float]:
    import torch

    from flowlearn.training.surrogate import ReynoldsRangeWarning

    n = len(sdf)
    per_sample: dict[int, float] = {}
    with torch.inference_mode(), warnings.catch_warnings():
        # Timing does not care whether Re lies in the trained range.
        warnings.simplefilter("ignore", ReynoldsRangeWarning)
        for b in batch_sizes:
            b = int(b)
            if b < 1:
                raise ValueError(f"batch size {b} must be at least 1")
            if b == 1:
                surrogate.predict(sdf[:1], mask[:1], re[:1], batch_size=1)
                calls = max(repeats, min(n, BATCH1_BODIES))
                start = time.perf_counter()
                for k in range(calls):
                    j = k % n
                    surrogate.predict(sdf[j : j + 1], mask[j : j + 1], re[j : j + 1], batch_size=1)
                per_sample[b] = (time.perf_counter() - start) / calls
            else:
                take = np.arange(b) % n
                xs, xm, xr = sdf[take], mask[take], re[take]
                surrogate.predict(xs, xm, xr, batch_size=b)
                start = time.perf_counter()
                for _ in range(repeats):
                    surrogate.predict(xs, xm, xr, batch_size=b)
                per_sample[b] = (time.perf_counter() - start) / (repeats * b)
    return per_sample


def bench(
    surrogate: FlowSurrogate,
    spec: FlowDatasetSpec,
    n_lbm: int = 3,
    *,
    batch_sizes: Sequence[int] = (1, 64),
    repeats: int = 5,
    threads: int | None = 1,
    max_tries: int | None = None,
    progress: Callable[[int, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """LBM and surrogate speed on the same grid and bodies, and the speed-up at each batch.

    ``threads``: of the LBM kernels and of torch alike (None: all cores for both).

    Samples ``0, 1, ...`` of ``spec`` run through the LBM until ``n_lbm`` reached a steady
    state (at most ``max_tries``, default ``4 n_lbm + 2``, samples); the surrogate is timed on
    the same bodies. ``spec.grid`` must be the surrogate's grid. Returns a JSON-able dict:
    ``grid``, ``lbm`` (see :func:`time_lbm`), ``surrogate`` (see :func:`time_surrogate`),
    ``speedup`` ``{batch: lbm / surrogate}`` (NaN if no LBM sample was steady), ``threads``.
    """
    from flowlearn.physics.lbm import default_threads

    if tuple(spec.grid) != tuple(surrogate.grid):
        raise ValueError(
            f"the LBM grid {spec.grid[0]}x{spec.grid[1]} differs from the surrogate's "
            f"{surrogate.grid[0]}x{surrogate.grid[1]}: time both on the same grid"
        )
    if n_lbm < 1:
        raise ValueError(f"n_lbm = {n_lbm} must be at least 1")
    tries = max_tries if max_tries is not None else 4 * n_lbm + 2
    threads = threads if threads is not None else default_threads()
    lbm = time_lbm(spec, range(tries), threads, stop_after_ok=n_lbm, progress=progress)
    # the same bodies (an invalid sample has no usable body: its shape or set-up failed)
    bodies = [i for i, st in zip(lbm["indices"], lbm["status"], strict=True) if st != "invalid"]
    if not bodies:
        raise ValueError(f"none of samples 0..{tries - 1} of the spec has a valid body")
    sdf, mask, re = surrogate_inputs(spec, bodies)
    sur = time_surrogate(surrogate, sdf, mask, re, batch_sizes, repeats, threads)
    speedup = {
        b: (lbm["mean_s"] / s if math.isfinite(lbm["mean_s"]) and s > 0 else math.nan)
        for b, s in sur["per_sample_s"].items()
    }
    return {
        "grid": list(spec.grid),
        "re_range": list(spec.re),
        "lbm": lbm,
        "surrogate": {
            **sur,
            "per_sample_s": {str(b): s for b, s in sur["per_sample_s"].items()},
        },
        "speedup": {str(b): r for b, r in speedup.items()},
        "threads": {"lbm": threads, "torch": sur["torch_threads"]},
    }


def untrained_surrogate(
    grid: tuple[int, int],
    spec: FlowDatasetSpec,
    model: str = "unet",
    status: Callable[[str], None] | None = None,
) -> FlowSurrogate:
    """A default-size network of ``model`` (``unet``: FlowUNet base 16, depth 3; ``guo`` /
    ``guo-shape``: GuoCNN width 16) with random weights (the timing does not depend on them) and
    a normaliser fitted on the first steady LBM sample of ``spec``. ``ValueError`` for a grid
    the U-Net cannot use, ``RuntimeError`` when no sample is steady in 10 tries."""
    from flowlearn.data.flow_fields import Normaliser, make_inputs
    from flowlearn.training.ensemble import MODELS
    from flowlearn.training.surrogate import FlowSurrogate, Member, build_model

    nx, ny = grid
    if nx % 8 or ny % 8:
        raise ValueError(
            f"grid {nx}x{ny}: the U-Net (depth 3) needs both sizes to be multiples of 8"
        )
    for i in range(10):
        if status is not None:
            status(f"LBM sample {i} for the normaliser")
        s = compute_sample(spec, i, None)
        if s.status == OK:
            break
    else:
        raise RuntimeError(f"no steady LBM sample in 10 tries on {nx}x{ny}: use a larger --grid")
    norm = Normaliser.fit(make_inputs(s.sdf, s.mask, s.re), s.fields[None], np.array(spec.re))
    architecture, inputs, _ = MODELS[model]
    net = build_model(architecture, grid, 16, 3, inputs)
    return FlowSurrogate([Member(architecture, net, inputs, norm)], grid)
