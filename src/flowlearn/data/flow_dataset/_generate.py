"""Making (or finishing) a dataset: resumable, one generation at a time, damaged samples
recomputed, samples in parallel through Dask
(:func:`flowlearn.data.sample_store.compute_pending`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from flowlearn.data import sample_store
from flowlearn.data.flow_dataset._integrity import verify
from flowlearn.data.flow_dataset._spec import (
    FIELDS,
    OK,
    PENDING,
    STATUS_NAMES,
    FlowDatasetSpec,
    Sample,
    compute_sample,
)
from flowlearn.data.flow_dataset._store import _check_existing, _open_or_create, _write, status
from flowlearn.safety.memory import require_memory


@dataclass
class GenerationReport:
    path: Path
    computed: int
    skipped: int
    counts: dict[str, int]
    wall_time_s: float
    reasons: list[str] = field(default_factory=list)
    #: Stored samples found damaged by the check before computing, recomputed this run.
    repaired: dict[int, str] = field(default_factory=dict)


def generate(
    spec: FlowDatasetSpec,
    path: str | Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Callable[[Sample, int, int], None] | None = None,
) -> GenerationReport:
    """Make (or finish) the dataset ``spec`` at ``path``; resumable and idempotent.

    workers: local processes (1 runs in this process, without Dask); scheduler: the address
    of a running Dask scheduler (``tcp://host:8786``) to run on instead. ``progress(sample,
    done, total)`` is called after each stored sample. Before computing, every stored sample
    is verified (:func:`verify`) and the damaged ones are computed again. Holds the store's
    lock throughout: a second generation of the same store is refused. Returns what was
    computed and the count of each status over the whole dataset.
    """
    path = Path(path)
    require_memory(
        generation_memory(spec, 1 if scheduler is None and workers <= 1 else workers),
        f"generating {spec.grid[0]}x{spec.grid[1]} samples with {workers} worker(s)",
        "use fewer workers or a coarser grid",
    )
    _check_existing(spec, path)  # refuse a foreign folder before leaving a lock file beside it
    with sample_store.store_lock(path, "generating"):
        return _generate_locked(spec, path, workers, scheduler, progress)


def generation_memory(spec: FlowDatasetSpec, workers: int) -> int:
    """Bytes the samples in flight need on this machine: per worker one lattice
    (:func:`~flowlearn.physics.lbm.solver_memory`) and one sample's arrays (SDF, mask and
    fields, float64 while they are made), plus the verification's blocks. The processes'
    own size (Python, the compiled kernels: ~0.3 GB each) is not counted."""
    from flowlearn.physics.lbm import solver_memory

    cells = spec.grid[0] * spec.grid[1]
    per_worker = solver_memory(spec.grid, "D2Q9", spec.dtype) + 8 * cells * (len(FIELDS) + 3)
    return workers * per_worker + 2 * sample_store.BLOCK_BYTES


def _generate_locked(spec, path, workers, scheduler, progress) -> GenerationReport:
    import zarr

    start = time.perf_counter()
    _open_or_create(spec, path)
    integrity = verify(path)
    group = zarr.open_group(path, mode="r+")
    for i in integrity.corrupt:  # recompute: the status goes back to pending, written last
        group["status"][i] = PENDING
    codes = integrity.codes.copy()
    codes[list(integrity.corrupt)] = PENDING
    todo = [int(i) for i in np.flatnonzero(codes == PENDING)]
    reasons: list[str] = []
    total = len(todo)

    def store(s: Sample, done: int) -> None:
        _write(group, spec, s)
        if s.status != OK:
            reasons.append(
                f"sample {s.index} ({s.family}, Re {s.re:.1f}): "
                f"{STATUS_NAMES[s.status]}: {s.reason}"
            )
        if progress is not None:
            progress(s, done, total)

    sample_store.compute_pending(
        compute_sample, spec, todo, store, workers=workers, scheduler=scheduler
    )
    codes = status(path)
    counts = {name: int((codes == c).sum()) for c, name in STATUS_NAMES.items()}
    return GenerationReport(
        path,
        total,
        spec.n - total,
        counts,
        time.perf_counter() - start,
        reasons,
        integrity.corrupt,
    )
