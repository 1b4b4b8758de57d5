"""Steady flows around random shapes, made with flowlearn's lattice Boltzmann solver.

One sample = one obstacle in a channel of ``grid = (nx, ny)`` cells (parabolic inflow, pressure
outlet, no-slip walls), run to steady state. Inputs: the body's signed distance (cells), its
solid mask and the Reynolds number; targets: ``u / U``, ``v / U`` and ``(p - p_out) / (rho U^2)``
(U the mean inlet velocity, 0 in the solid) plus the drag and lift coefficients by momentum
exchange.

Storage is one Zarr store in xarray's layout (dims ``sample, y, x``), pre-allocated for all
samples and chunked one sample per chunk. A sample's fields are written first and its ``status``
last, so a run killed at any point leaves only complete samples marked done; the same command
then computes only what is missing. Every sample has its own seed (``[seed, index]``), so a
sample is the same whichever worker makes it and in whatever order. Unconverged (unsteady),
diverged or invalid samples are never stored as data: their status says why, and they are
counted.

Samples run in parallel through Dask: local processes by default, or any Dask cluster given by
its scheduler address.

Integrity (:mod:`flowlearn.data.sample_store`): every chunk carries a CRC32C, one generation
holds the store's lock, and :func:`verify` reads every stored sample back and checks it is
intact and physical (finite, zero in the body, the inlet's mean velocity equal to U, ...).
:func:`generate` verifies before it computes and recomputes what is damaged; :func:`read`, which
training uses, refuses a damaged sample by index.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from flowlearn.data import sample_store
from flowlearn.data.flow_fields import FIELD_NAMES, channel
from flowlearn.data.sample_store import StoreError
from flowlearn.safety.memory import require_memory
from flowlearn.safety.outputs import MARK

#: Bump when a change to the solver set-up changes the numbers a spec produces.
GENERATOR_VERSION = 1

#: Sample status codes (``status`` variable); 0 means not computed yet.
PENDING, OK, UNSTEADY, DIVERGED, INVALID = 0, 1, 2, 3, 4
STATUS_NAMES = {
    PENDING: "pending",
    OK: "ok",
    UNSTEADY: "unsteady",
    DIVERGED: "diverged",
    INVALID: "invalid",
}

#: The stored fields, in the order of :data:`flowlearn.data.flow_fields.FIELDS`.
FIELDS = FIELD_NAMES


class DatasetError(StoreError):
    """A dataset that cannot be used or resumed: the message says why and what to do."""


#: ``flowlearn_output`` attribute of a dataset store (see :mod:`flowlearn.safety.outputs`).
KIND = "dataset"


@dataclass(frozen=True)
class FlowDatasetSpec:
    """Everything that decides a dataset's numbers; its :attr:`fingerprint` names them.

    grid: ``(nx, ny)`` cells. n: samples. re: Reynolds range ``(lo, hi)``, drawn uniformly.
    families: shape families (see :mod:`flowlearn.physics.shape_families`), cycled so each gets
    the same share. u_lattice: mean inlet velocity, cells/step. steady_tol: per-step relative
    velocity change that counts as steady. max_flow_throughs: a sample not steady after this
    many domain flow-through times is rejected as unsteady.
    """

    grid: tuple[int, int] = (256, 128)
    n: int = 2000
    re: tuple[float, float] = (10.0, 40.0)
    families: tuple[str, ...] = ("circle", "ellipse", "rectangle", "triangle", "polygon", "blob")
    seed: int = 0
    u_lattice: float = 0.05
    steady_tol: float = 1e-7
    max_flow_throughs: float = 15.0
    dtype: str = "float32"

    def __post_init__(self) -> None:
        from flowlearn.physics.shape_families import FAMILIES

        object.__setattr__(self, "grid", tuple(int(g) for g in self.grid))
        object.__setattr__(self, "re", tuple(float(r) for r in self.re))
        object.__setattr__(self, "families", tuple(self.families))
        nx, ny = self.grid
        if nx < 16 or ny < 8:
            raise DatasetError(f"grid {nx}x{ny} is too small: use at least 16x8 cells")
        if self.n < 1:
            raise DatasetError(f"number of samples n = {self.n} must be at least 1")
        lo, hi = self.re
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
            raise DatasetError(f"Reynolds range {lo:g}:{hi:g} must satisfy 0 < lo <= hi")
        if not self.families:
            raise DatasetError("give at least one shape family")
        unknown = [f for f in self.families if f not in FAMILIES]
        if unknown:
            raise DatasetError(
                f"unknown shape famil{'y' if len(unknown) == 1 else 'ies'} "
                f"{', '.join(unknown)}; choose from {', '.join(FAMILIES)}"
            )
        if self.dtype not in ("float32", "float64"):
            raise DatasetError(f"dtype {self.dtype!r} must be float32 or float64")

    @property
    def max_steps(self) -> int:
        return int(self.max_flow_throughs * self.grid[0] / self.u_lattice)

    @property
    def fingerprint(self) -> str:
        """sha256 over the spec and the generator version: equal fingerprints, equal data."""
        blob = json.dumps({**asdict(self), "generator": GENERATOR_VERSION}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def to_attrs(self) -> dict[str, Any]:
        return {
            **{k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()},
            "fingerprint": self.fingerprint,
            "generator_version": GENERATOR_VERSION,
        }

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> FlowDatasetSpec:
        names = cls.__dataclass_fields__
        return cls(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in attrs.items() if k in names}
        )


@dataclass
class Sample:
    """One computed sample (arrays ``(ny, nx)``) and how its run ended."""

    index: int
    status: int
    family: str
    re: float
    sdf: np.ndarray | None = None
    mask: np.ndarray | None = None
    fields: np.ndarray | None = None
    scalars: dict[str, float] = field(default_factory=dict)
    reason: str = ""


def sample_setup(spec: FlowDatasetSpec, index: int):
    """The shape (cell units), family and Reynolds number of sample ``index``; deterministic."""
    from flowlearn.physics.shape_families import random_shape

    rng = np.random.default_rng([spec.seed, index])
    family = spec.families[index % len(spec.families)]
    re = float(rng.uniform(*spec.re))
    return random_shape(family, rng, spec.grid), family, re


def steady_case(spec: FlowDatasetSpec, shape, re: float, threads: int | None = 1):
    """The LBM case of one sample: ``shape`` (cell units) in the spec's channel at Reynolds
    ``re``, the spec's lattice velocity and real type. Raises ``ShapeError`` / ``ValueError``
    for a body or a setting the solver refuses; warns ``StabilityWarning`` near its limits."""
    from flowlearn.physics.lbm import cases

    return cases.obstacle_channel(
        shape, spec.grid, re=re, u_lattice=spec.u_lattice, dtype=spec.dtype, threads=threads
    )


def run_to_steady(spec: FlowDatasetSpec, case, callback=None):
    """The dataset's recipe for a steady state, the one ``flowlearn predict --compare`` runs
    too: check the residual every ``max(100, nx)`` steps, never stop before two checks, give
    up after :attr:`FlowDatasetSpec.max_steps`. ``callback(solver, residual)`` at each check;
    returns the solver's ``RunReport`` (``DivergenceError`` if the run blows up)."""
    check = max(100, spec.grid[0])
    return case.solver.run(
        spec.max_steps,
        check_every=check,
        steady_tol=spec.steady_tol,
        min_steps=2 * check,
        callback=callback,
    )


def compute_sample(spec: FlowDatasetSpec, index: int, threads: int = 1) -> Sample:
    """Run the LBM for sample ``index`` to steady state (or give up) and return it."""
    from flowlearn.physics.geometry import ShapeError
    from flowlearn.physics.lbm import DivergenceError, StabilityWarning

    start = time.perf_counter()
    try:
        shape, family, re = sample_setup(spec, index)
    except (ShapeError, ValueError) as exc:
        fam = spec.families[index % len(spec.families)]
        return Sample(index, INVALID, fam, math.nan, reason=f"shape: {exc}")
    nx, ny = spec.grid
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StabilityWarning)
            case = steady_case(spec, shape, re, threads)
    except (ShapeError, ValueError) as exc:
        return Sample(index, INVALID, family, re, reason=str(exc))
    try:
        report = run_to_steady(spec, case)
    except DivergenceError as exc:
        return Sample(index, DIVERGED, family, re, reason=str(exc))
    fields, mask = case.fields()
    scalars = {
        "steps": float(report.steps),
        "residual": float(report.residual),
        "lbm_seconds": time.perf_counter() - start,
        "ref_length": float(case.units.length_cells),
    }
    if not report.steady:
        return Sample(
            index,
            UNSTEADY,
            family,
            re,
            scalars=scalars,
            reason=f"residual {report.residual:.2e} after {report.steps} steps",
        )
    if not np.isfinite(fields).all():
        return Sample(index, DIVERGED, family, re, scalars=scalars, reason="non-finite field")
    coeff = case.coefficients()
    scalars.update(cd=float(coeff["cd"]), cl=float(coeff["cl"]))
    sdf = shape.sample(nx, ny, 1.0)
    return Sample(
        index, OK, family, re, sdf.astype(np.float32), mask, fields.astype(np.float32), scalars
    )


SCALARS = ("cd", "cl", "ref_length", "steps", "residual", "lbm_seconds")
#: The variables over the grid, one chunk per sample each.
GRID_VARS = ("sdf", "mask", *FIELDS)


def _template(spec: FlowDatasetSpec):
    import dask.array as da
    import xarray as xr

    nx, ny = spec.grid
    n = spec.n

    def grid_var(dtype, attrs):
        return (("sample", "y", "x"), da.zeros((n, ny, nx), dtype=dtype, chunks=(1, ny, nx)), attrs)

    def per_sample(dtype, fill, attrs):
        return ("sample", da.full((n,), fill, dtype=dtype, chunks=(1,)), attrs)

    data = {
        "sdf": grid_var("float32", channel("sdf").attrs),
        "mask": grid_var("uint8", channel("mask").attrs),
        **{name: grid_var("float32", channel(name).attrs) for name in FIELD_NAMES},
        "re": per_sample("float64", np.nan, channel("re").attrs),
        "family": per_sample(
            "int8",
            -1,
            {
                "flag_values": list(range(len(spec.families))),
                "flag_meanings": " ".join(spec.families),
            },
        ),
        "status": per_sample(
            "int8",
            PENDING,
            {"flag_values": list(STATUS_NAMES), "flag_meanings": " ".join(STATUS_NAMES.values())},
        ),
    }
    for name in SCALARS:
        data[name] = per_sample("float64", np.nan, {})
    coords = {
        "sample": np.arange(n),
        "x": ("x", np.arange(nx) + 0.5, {"units": "cells"}),
        "y": ("y", np.arange(ny) + 0.5, {"units": "cells"}),
    }
    attrs = {
        "title": "flowlearn steady obstacle flows",
        "source": "flowlearn lattice Boltzmann solver (D2Q9 TRT, Bouzidi walls)",
        MARK: KIND,
        **spec.to_attrs(),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _owned(attrs: dict[str, Any]) -> bool:
    """A store flowlearn made: its root attributes name the generator and a fingerprint."""
    return attrs.get(MARK) == KIND or ("fingerprint" in attrs and "generator_version" in attrs)


def _open_or_create(spec: FlowDatasetSpec, path: Path) -> None:
    """Check that ``path`` holds the dataset ``spec`` or create it empty (call it locked)."""
    if not _check_existing(spec, path):
        sample_store.create_store(_template(spec), path, _owned)


def _check_existing(spec: FlowDatasetSpec, path: Path) -> bool:
    """Whether ``path`` exists; if so, a :class:`DatasetError` unless it holds ``spec``."""
    import xarray as xr

    if path.exists() or path.is_symlink():
        try:
            attrs = xr.open_zarr(path, consolidated=False, chunks=None).attrs
        except Exception as exc:
            raise DatasetError(
                f"{path} exists but is not a readable flowlearn dataset ({exc}); flowlearn never "
                "writes into it: choose another name"
            ) from None
        found = attrs.get("fingerprint")
        if found != spec.fingerprint:
            if not found:
                raise DatasetError(
                    f"{path} is a Zarr store but not a flowlearn dataset (no fingerprint): "
                    "flowlearn never writes into it; choose another name"
                )
            old = FlowDatasetSpec.from_attrs(attrs)
            diff = ", ".join(
                f"{k}: {getattr(old, k)!r} there, {getattr(spec, k)!r} now"
                for k in spec.__dataclass_fields__
                if getattr(old, k) != getattr(spec, k)
            )
            raise DatasetError(
                f"{path} holds a dataset made with other settings ({diff or 'generator version'}):"
                " use another name, or delete it to start again"
            )
        return True
    return False


def _group(path: str | Path, mode: str = "r"):
    """The dataset's open Zarr group; a :class:`DatasetError` if there is none."""
    import zarr

    path = Path(path)
    if not path.exists():
        raise DatasetError(f"no dataset at {path}: make one with `flowlearn dataset generate`")
    try:
        group = zarr.open_group(path, mode=mode)
    except Exception as exc:
        raise DatasetError(
            f"{path} is not a flowlearn dataset (not a readable Zarr store: {exc})"
        ) from None
    if "fingerprint" not in group.attrs:
        raise DatasetError(f"{path} is not a flowlearn dataset (no fingerprint attribute)")
    return group


def status(path: str | Path) -> np.ndarray:
    """Status code of every sample of the dataset at ``path``; a :class:`DatasetError` names
    the samples whose status cannot be read back intact."""
    codes, bad = sample_store.read_checked(_group(path)["status"])
    if bad:
        raise DatasetError(
            f"{path}: the status of sample(s) {_indices(bad)} is damaged; `flowlearn dataset "
            "generate` recomputes them"
        )
    return codes


def _indices(bad: dict[int, str] | Sequence[int], shown: int = 10) -> str:
    idx = sorted(bad)
    return ", ".join(map(str, idx[:shown])) + (
        f" and {len(idx) - shown} more" if len(idx) > shown else ""
    )


#: Physical bounds a stored sample must keep (dimensionless: units of U and rho U^2). Steady
#: flows at Re 3-70 in these channels stay within a few U and a few hundred rho U^2; the bounds
#: are wide so that only damage, not physics, can cross them.
MAX_SPEED = 100.0
MAX_PRESSURE = 1e6
#: The inlet column's mean u is U by definition; its error on a saved sample is round-off.
INLET_TOLERANCE = 0.1


@dataclass
class Integrity:
    """What :func:`verify` found: ``checked`` stored samples read back, the damaged ones
    ``{index: reason}``, and whether the store seals its chunks with checksums."""

    path: Path
    samples: int
    checked: int
    corrupt: dict[int, str]
    checksummed: bool
    codes: np.ndarray

    @property
    def intact(self) -> bool:
        return not self.corrupt


def _physical(name: str, values: np.ndarray, mask: np.ndarray, grid: tuple[int, int]):
    """Per-sample reason a stored grid variable is not physical ('' when it is)."""
    nx, ny = grid
    flat = values.reshape(len(values), nx * ny).astype(np.float64)
    solid = mask.reshape(len(mask), nx * ny).astype(bool)
    finite = np.isfinite(flat).all(axis=1)
    flat = np.where(np.isfinite(flat), flat, 0.0)
    why = np.where(finite, "", f"{name}: not finite").astype(object)

    def bad(cond, text):
        nonlocal why
        why = np.where((why == "") & cond, f"{name}: {text}", why)

    if name == "sdf":
        bad(np.abs(flat).max(axis=1) > math.hypot(nx, ny), "beyond the channel's diagonal")
        bad(~(flat < 0).any(axis=1), "no body (no negative distance)")
    elif name == "mask":
        bad(~np.isin(flat, (0, 1)).all(axis=1), "values other than 0 and 1")
        bad(~solid.any(axis=1), "no solid cell")
    else:
        limit = MAX_PRESSURE if name == "p" else MAX_SPEED
        bad(np.abs(flat).max(axis=1) > limit, f"|{name}| above {limit:g}")
        bad((np.abs(flat) * solid).max(axis=1) > 0, "non-zero inside the body")
        bad(~(flat != 0).any(axis=1), "zero everywhere")
        if name == "u":
            inlet = values[:, :, 0].astype(np.float64).mean(axis=1)
            bad(np.abs(inlet - 1.0) > INLET_TOLERANCE, "mean inlet velocity is not U")
    return why


def verify(
    path: str | Path, *, progress: Callable[[str], None] | None = None, values: bool = True
) -> Integrity:
    """Read back every sample of the dataset at ``path`` and check it.

    A status must read back intact and be a known code; a stored (ok) sample must have every
    chunk on disk, read back intact (CRC32C, where the store has them) and be physical
    (:func:`_physical`; Re inside the spec's range, finite coefficients). ``values=False``
    checks statuses and chunk files only. Damaged samples are returned, never raised.
    """
    path = Path(path)
    group = _group(path)
    spec = FlowDatasetSpec.from_attrs(dict(group.attrs))
    say = progress or (lambda _: None)
    corrupt: dict[int, str] = {}
    say("statuses")
    codes, bad = sample_store.read_checked(group["status"])
    corrupt.update(bad)
    unknown = ~np.isin(codes, list(STATUS_NAMES))
    corrupt.update({int(i): f"status: unknown code {codes[i]}" for i in np.flatnonzero(unknown)})
    ok = np.flatnonzero((codes == OK) & ~np.isin(np.arange(len(codes)), list(corrupt)))
    # A stored sample's grid variables never equal their fill value (NaN, or a mask with no
    # solid), so their chunks must all be on disk; a missing scalar reads NaN, checked below.
    for name in GRID_VARS:
        for i in sample_store.missing_chunks(path, group[name], ok):
            corrupt.setdefault(i, f"{name}: chunk file missing")
    if values:
        mask, bad = sample_store.read_checked(group["mask"], ok)
        corrupt.update({k: v for k, v in bad.items() if k not in corrupt})
        for name in GRID_VARS:
            say(name)
            data = mask if name == "mask" else None
            if data is None:
                data, bad = sample_store.read_checked(group[name], ok)
                for k, v in bad.items():
                    corrupt.setdefault(k, v)
            for i, why in zip(ok, _physical(name, data, mask, spec.grid), strict=True):
                if why:
                    corrupt.setdefault(int(i), why)
        say("scalars")
        lo, hi = spec.re
        scalar_rules = {
            "re": lambda r: np.isfinite(r) & (r >= lo * (1 - 1e-9)) & (r <= hi * (1 + 1e-9)),
            "family": lambda f: (f >= 0) & (f < len(spec.families)),
            "cd": np.isfinite,
            "cl": np.isfinite,
            "steps": lambda s: np.isfinite(s) & (s >= 1),
            "ref_length": lambda r: np.isfinite(r) & (r > 0),
        }
        for name, rule in scalar_rules.items():
            data, bad = sample_store.read_checked(group[name], ok)
            for k, v in bad.items():
                corrupt.setdefault(k, v)
            for i in ok[~rule(data.astype(np.float64))]:
                corrupt.setdefault(int(i), f"{name}: {data[ok == i][0]!r} is not valid")
    return Integrity(
        path=path,
        samples=len(codes),
        checked=len(ok),
        corrupt=dict(sorted(corrupt.items())),
        checksummed=sample_store.has_checksums(group),
        codes=codes,
    )


def _write(group, spec: FlowDatasetSpec, s: Sample) -> None:
    """Store sample ``s`` into the open Zarr ``group``: fields first, its status last."""
    i = s.index
    group["re"][i] = s.re
    group["family"][i] = spec.families.index(s.family)
    for name in SCALARS:
        group[name][i] = s.scalars.get(name, np.nan)
    if s.status == OK:
        group["sdf"][i] = s.sdf
        group["mask"][i] = s.mask.astype(np.uint8)
        for k, name in enumerate(FIELDS):
            group[name][i] = s.fields[k]
    # The status goes last: a sample is done only once everything else is on disk.
    group["status"][i] = s.status


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

    if todo and scheduler is None and workers <= 1:
        for k, i in enumerate(todo, 1):
            store(compute_sample(spec, i), k)
    elif todo:
        _run_dask(spec, todo, workers, scheduler, store)
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


def _run_dask(spec, todo: Sequence[int], workers: int, scheduler: str | None, store) -> None:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        # ":0", a free port: None does not turn the dashboard off and falls back to :8787,
        # which warns whenever another cluster holds it (dask/distributed#8136).
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futures = client.map(compute_sample, [spec] * len(todo), todo, pure=False)
        for k, fut in enumerate(as_completed(futures), 1):
            store(fut.result(), k)
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def load(path: str | Path, *, only_ok: bool = True):
    """The dataset at ``path`` as an ``xarray.Dataset`` (lazy); by default only the stored
    (status ok) samples, with ``family`` decoded to names in ``family_name`` ("unknown" where
    it cannot be read). Reading a damaged chunk later raises; :func:`read` checks first."""
    import xarray as xr

    path = Path(path)
    group = _group(path)
    ds = xr.open_zarr(path, consolidated=False, chunks=None)
    codes = status(path)
    keep = np.flatnonzero(codes == OK) if only_ok else np.arange(len(codes))
    if only_ok:
        ds = ds.isel(sample=keep)
    family, bad = sample_store.read_checked(group["family"], keep)
    names = np.array([*ds.attrs["families"], "unknown"])
    family = family.astype(int)
    family[(family < 0) | (family >= len(names) - 1)] = len(names) - 1
    family[np.isin(keep, list(bad))] = len(names) - 1
    return ds.assign_coords(family_name=("sample", names[family]))


def read(path: str | Path, *, progress: Callable[[str], None] | None = None):
    """The stored samples of the dataset at ``path``, verified (:func:`verify`) and in memory:
    what training reads. A :class:`DatasetError` names the damaged samples instead."""
    path = Path(path)
    integrity = verify(path, progress=progress)
    nx, ny = FlowDatasetSpec.from_attrs(dict(_group(path).attrs)).grid
    # sdf, u, v, p (float32) and mask (uint8) of every stored sample, plus the scalars
    require_memory(
        integrity.checked * (nx * ny * (4 * 4 + 1) + 8 * (len(SCALARS) + 3)),
        f"the {integrity.checked} stored samples of {path}",
        "read a smaller dataset, or on a machine with more memory",
    )
    if integrity.corrupt:
        first = next(iter(integrity.corrupt.items()))
        raise DatasetError(
            f"{path}: {len(integrity.corrupt)} stored sample(s) are damaged "
            f"({_indices(integrity.corrupt)}; sample {first[0]}: {first[1]}): run `flowlearn "
            "dataset generate` with the same settings to recompute them"
        )
    try:
        return load(path).load()
    except (ValueError, OSError) as exc:  # damaged between the check and this read
        raise DatasetError(f"{path}: a chunk cannot be read back intact ({exc})") from None


@dataclass
class FlowSamples:
    """Stored samples in memory, as a surrogate reads them: inputs ``x (N, 3, ny, nx)`` and
    fields ``y (N, 3, ny, nx)`` (float32, :mod:`flowlearn.data.flow_fields`), the solid ``mask
    (N, ny, nx)``, per sample ``re``, the LBM's ``cd`` / ``cl``, the body's ``ref_length``
    (cells), its ``family`` name, ``lbm_seconds``, ``steps`` and its ``index`` in the store."""

    x: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    re: np.ndarray
    cd: np.ndarray
    cl: np.ndarray
    ref_length: np.ndarray
    family: np.ndarray
    lbm_seconds: np.ndarray
    steps: np.ndarray
    index: np.ndarray

    def __len__(self) -> int:
        return len(self.re)

    @property
    def sdf(self) -> np.ndarray:
        return self.x[:, 0]

    def subset(self, idx: np.ndarray) -> FlowSamples:
        return FlowSamples(**{k: getattr(self, k)[idx] for k in self.__dataclass_fields__})


def read_samples(path: str | Path) -> FlowSamples:
    """The stored samples of the dataset at ``path``, verified (:func:`read`) and in memory."""
    from flowlearn.data.flow_fields import make_inputs

    ds = read(path)
    return FlowSamples(
        x=make_inputs(ds["sdf"].values, ds["mask"].values, ds["re"].values),
        y=np.stack([ds[k].values for k in FIELD_NAMES], axis=1).astype(np.float32),
        mask=ds["mask"].values.astype(bool),
        re=ds["re"].values,
        cd=ds["cd"].values,
        cl=ds["cl"].values,
        ref_length=ds["ref_length"].values,
        family=ds["family_name"].values.astype(str),
        lbm_seconds=ds["lbm_seconds"].values,
        steps=ds["steps"].values,
        index=ds["sample"].values,
    )


def summary(path: str | Path) -> dict[str, Any]:
    """Counts per status and family, Re range, fingerprint: what ``dataset info`` prints."""
    ds = load(path, only_ok=False)
    codes = status(path)
    ok = codes == OK
    fam = ds["family_name"].values
    seconds, _ = sample_store.read_checked(_group(path)["lbm_seconds"], np.flatnonzero(ok))
    return {
        "path": str(path),
        "fingerprint": ds.attrs["fingerprint"],
        "grid": list(ds.attrs["grid"]),
        "samples": len(codes),
        "status": {name: int((codes == c).sum()) for c, name in STATUS_NAMES.items()},
        "families": {f: int((ok & (fam == f)).sum()) for f in ds.attrs["families"]},
        "re_range": list(ds.attrs["re"]),
        "lbm_seconds_per_sample": float(np.nanmean(seconds)) if ok.any() else math.nan,
    }


def add_checksums(path: str | Path) -> Integrity:
    """Seal a dataset written before checksums: every sample is verified first (values
    included), and only an intact store is rewritten, under its lock. Returns the check of
    the sealed store."""
    path = Path(path)
    with sample_store.store_lock(path, "sealing"):
        before = verify(path)
        if before.checksummed:
            return before
        if before.corrupt:
            raise DatasetError(
                f"{path}: {len(before.corrupt)} stored sample(s) fail the check "
                f"({_indices(before.corrupt)}); recompute them with `flowlearn dataset "
                "generate` before adding checksums"
            )
        sample_store.rewrite_with_checksums(path)
    return verify(path)
