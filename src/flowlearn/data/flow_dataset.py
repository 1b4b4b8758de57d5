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

FIELDS = ("u", "v", "p")


class DatasetError(ValueError):
    """A dataset that cannot be used or resumed: the message says why and what to do."""


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


def compute_sample(spec: FlowDatasetSpec, index: int, threads: int = 1) -> Sample:
    """Run the LBM for sample ``index`` to steady state (or give up) and return it."""
    from flowlearn.physics.geometry import ShapeError
    from flowlearn.physics.lbm import DivergenceError, StabilityWarning, cases

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
            case = cases.obstacle_channel(
                shape,
                spec.grid,
                re=re,
                u_lattice=spec.u_lattice,
                dtype=spec.dtype,
                threads=threads,
            )
    except (ShapeError, ValueError) as exc:
        return Sample(index, INVALID, family, re, reason=str(exc))
    check = max(100, nx)
    try:
        report = case.solver.run(
            spec.max_steps, check_every=check, steady_tol=spec.steady_tol, min_steps=2 * check
        )
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
        "sdf": grid_var(
            "float32", {"units": "cells", "long_name": "signed distance, < 0 in solid"}
        ),
        "mask": grid_var("uint8", {"long_name": "solid (1) or fluid (0)"}),
        "u": grid_var("float32", {"units": "U", "long_name": "streamwise velocity / U"}),
        "v": grid_var("float32", {"units": "U", "long_name": "cross-stream velocity / U"}),
        "p": grid_var("float32", {"units": "rho U^2", "long_name": "(p - p_outlet) / rho U^2"}),
        "re": per_sample("float64", np.nan, {"long_name": "Reynolds number U L / nu"}),
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
        **spec.to_attrs(),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _open_or_create(spec: FlowDatasetSpec, path: Path) -> None:
    import xarray as xr

    if path.exists():
        try:
            attrs = xr.open_zarr(path, consolidated=False, chunks=None).attrs
        except Exception as exc:
            raise DatasetError(
                f"{path} exists but is not a readable flowlearn dataset ({exc}); "
                "remove it or choose another name"
            ) from None
        found = attrs.get("fingerprint")
        if found != spec.fingerprint:
            old = FlowDatasetSpec.from_attrs(attrs) if found else None
            diff = (
                ", ".join(
                    f"{k}: {getattr(old, k)!r} there, {getattr(spec, k)!r} now"
                    for k in spec.__dataclass_fields__
                    if getattr(old, k) != getattr(spec, k)
                )
                if old
                else "no fingerprint"
            )
            raise DatasetError(
                f"{path} holds a dataset made with other settings ({diff or 'generator version'}):"
                " use another name, or delete it to start again"
            )
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".creating")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    _template(spec).to_zarr(tmp, compute=True, consolidated=False, zarr_format=3)
    tmp.rename(path)  # atomic: the store exists complete or not at all


def status(path: str | Path) -> np.ndarray:
    """Status code of every sample of the dataset at ``path``."""
    import xarray as xr

    return xr.open_zarr(path, consolidated=False, chunks=None)["status"].values


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
    done, total)`` is called after each stored sample. Returns what was computed and the
    count of each status over the whole dataset.
    """
    path = Path(path)
    _open_or_create(spec, path)
    todo = [int(i) for i in np.flatnonzero(status(path) == PENDING)]
    start = time.perf_counter()
    reasons: list[str] = []
    total = len(todo)

    import zarr

    group = zarr.open_group(path, mode="r+")

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
        path, total, spec.n - total, counts, time.perf_counter() - start, reasons
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
    (status ok) samples, with ``family`` decoded to names in ``family_name``."""
    import xarray as xr

    path = Path(path)
    if not path.exists():
        raise DatasetError(f"no dataset at {path}: make one with `flowlearn dataset generate`")
    try:
        ds = xr.open_zarr(path, consolidated=False, chunks=None)
    except Exception as exc:
        raise DatasetError(
            f"{path} is not a flowlearn dataset (not a readable Zarr store: {exc})"
        ) from None
    if "fingerprint" not in ds.attrs:
        raise DatasetError(f"{path} is not a flowlearn dataset (no fingerprint attribute)")
    if only_ok:
        ok = np.flatnonzero(ds["status"].values == OK)
        ds = ds.isel(sample=ok)
    names = np.array(ds.attrs["families"])
    codes = ds["family"].values.astype(int)
    ds = ds.assign_coords(family_name=("sample", names[np.clip(codes, 0, len(names) - 1)]))
    return ds


def summary(path: str | Path) -> dict[str, Any]:
    """Counts per status and family, Re range, fingerprint: what ``dataset info`` prints."""
    ds = load(path, only_ok=False)
    codes = ds["status"].values
    ok = codes == OK
    fam = ds["family_name"].values
    return {
        "path": str(path),
        "fingerprint": ds.attrs["fingerprint"],
        "grid": list(ds.attrs["grid"]),
        "samples": len(codes),
        "status": {name: int((codes == c).sum()) for c, name in STATUS_NAMES.items()},
        "families": {f: int((ok & (fam == f)).sum()) for f in ds.attrs["families"]},
        "re_range": list(ds.attrs["re"]),
        "lbm_seconds_per_sample": float(np.nanmean(ds["lbm_seconds"].values[ok]))
        if ok.any()
        else math.nan,
    }
