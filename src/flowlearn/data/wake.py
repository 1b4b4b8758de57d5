"""Unsteady wakes behind a cylinder, made by flowlearn's LBM and stored as snapshots: the data of
flow post-processing (POD, DMD, autoencoders) and, later, of generative models and control.

A :class:`WakeSpec` names everything that decides the numbers: the Reynolds number, the channel
(``"confined"``: the Schäfer–Turek 2D-2 channel, blockage 24 %; ``"wide"``: 24 diameters wide,
periodic sides, blockage 4.2 %), the resolution, the lattice velocity, the snapshots (``n``,
``per_period``) and the transient left out (``settle_periods``). :func:`generate`

1. runs the transient from the start flow with a small asymmetric kick (without it the
   symmetric wake sheds only when round-off has grown), measures the shedding period from the
   lift over its last periods, and sets the snapshot interval to ``period / per_period`` steps;
2. stores ``n`` snapshots of ``u / U``, ``v / U`` and the vorticity ``ω D / U`` (over the
   spec's ``window`` around the cylinder, in diameters), the lift and drag coefficients at
   each, into a checksummed Zarr store of :mod:`flowlearn.data.sample_store` (one snapshot per
   chunk, its status written last), fingerprinted by the spec;
3. saves the solver's state (:mod:`flowlearn.physics.lbm.state`) beside the store
   (``NAME.zarr.state.npz``) every ``CHECKPOINT`` snapshots, so a killed generation resumes
   where the state was saved and continues bit for bit; the last state, a developed wake, stays
   for whoever wants to run it further.

:func:`read` returns the verified snapshots as an xarray Dataset (time in convective units
``D / U``), the Strouhal number from the stored lift, and refuses a damaged store by snapshot.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from flowlearn.data import sample_store
from flowlearn.data.sample_store import PENDING, StoreError, StoreKind
from flowlearn.safety.memory import require_memory
from flowlearn.safety.outputs import MARK

#: Bump when a change to the set-up or the recipe changes the numbers a spec produces.
WAKE_VERSION = 1
#: ``flowlearn_output`` attribute of a wake store.
KIND = "wake"
#: Snapshot status (beside ``PENDING``).
OK = 1
#: Snapshots between two saved solver states.
CHECKPOINT = 20
CHANNELS = ("confined", "wide")
#: Strouhal numbers used to guess the period before it is measured (Schäfer–Turek 2D-2: 0.30;
#: an unconfined cylinder at Re 100: 0.16-0.17).
ST_GUESS = {"confined": 0.3, "wide": 0.165}
FIELDS = ("u", "v", "vorticity")


class WakeError(StoreError):
    """A wake store that cannot be used or resumed; the message says why and what to do."""


STORE = StoreKind(
    "wake",
    make="make one with flowlearn.data.wake.generate",
    repair="generate it again with the same spec: the damaged snapshots are recomputed",
    error=WakeError,
)


@dataclass(frozen=True)
class WakeSpec:
    """What decides a wake's snapshots; its :attr:`fingerprint` names them.

    re: Reynolds number ``U D / nu`` (U: the mean inflow). channel: "confined" or "wide".
    cells_per_diameter: resolution (16 keeps Re 100 stable at U 0.05). u_lattice: mean inflow,
    cells/step. n: snapshots; per_period: snapshots per shedding period. settle_periods: the
    transient run before the first snapshot, in guessed periods. window: ``(x0, x1, y0, y1)``
    in diameters around the cylinder's centre (None: the whole channel).
    """

    re: float = 100.0
    channel: str = "confined"
    cells_per_diameter: int = 16
    u_lattice: float = 0.05
    n: int = 240
    per_period: int = 20
    settle_periods: float = 25.0
    window: tuple[float, float, float, float] | None = None
    dtype: str = "float32"

    def __post_init__(self) -> None:
        if self.window is not None:
            object.__setattr__(self, "window", tuple(float(w) for w in self.window))
        if self.channel not in CHANNELS:
            raise WakeError(f"channel {self.channel!r}: choose {' or '.join(CHANNELS)}")
        if not (math.isfinite(self.re) and self.re > 0):
            raise WakeError(f"Reynolds number {self.re} must be positive")
        if self.n < 2:
            raise WakeError(f"n = {self.n} snapshots: at least 2 are needed")
        if self.per_period < 4:
            raise WakeError(f"per_period = {self.per_period}: at least 4 snapshots per period")
        if self.settle_periods < 5:
            raise WakeError(
                f"settle_periods = {self.settle_periods}: at least 5 (the period is measured "
                "over the last 4)"
            )
        if self.window is not None:
            x0, x1, y0, y1 = self.window
            if not (x0 < x1 and y0 < y1):
                raise WakeError(f"window {self.window} must satisfy x0 < x1 and y0 < y1")
        if self.dtype not in ("float32", "float64"):
            raise WakeError(f"dtype {self.dtype!r} must be float32 or float64")

    @property
    def fingerprint(self) -> str:
        blob = json.dumps({**asdict(self), "wake_version": WAKE_VERSION}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def to_attrs(self) -> dict[str, Any]:
        out = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        out["window"] = "none" if self.window is None else list(self.window)
        return {**out, "fingerprint": self.fingerprint, "wake_version": WAKE_VERSION}

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> WakeSpec:
        names = cls.__dataclass_fields__
        values = {k: v for k, v in attrs.items() if k in names}
        if values.get("window") == "none":
            values["window"] = None
        return cls(**values)


def wake_case(spec: WakeSpec):
    """The LBM case of ``spec`` (started, not run)."""
    from flowlearn.physics.lbm import StabilityWarning, cases

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StabilityWarning)
        if spec.channel == "confined":
            return cases.schafer_turek(
                spec.re,
                cells_per_diameter=spec.cells_per_diameter,
                u_lattice=spec.u_lattice,
                outlet="convective",
                dtype=spec.dtype,
            )
        return cases.cylinder_wake(
            spec.re,
            cells_per_diameter=spec.cells_per_diameter,
            u_lattice=spec.u_lattice,
            dtype=spec.dtype,
        )


def wake_grid(spec: WakeSpec) -> tuple[int, int]:
    """The lattice ``(nx, ny)`` of ``spec``'s channel (as :func:`wake_case` builds it)."""
    d = spec.cells_per_diameter
    if spec.channel == "confined":  # the Schäfer–Turek channel, 2.2 x 0.41 for D = 0.1
        dx = 0.1 / d
        return round(2.2 / dx), round(0.41 / dx)
    return round(30.0 * d), round(24.0 * d)


def read_state_meta(path: Path) -> dict[str, Any]:
    """The attrs saved with the solver state at ``path``."""
    from flowlearn.physics.lbm.state import read_meta

    return dict(read_meta(path).get("attrs") or {})


def _centre_cells(case) -> tuple[float, float]:
    """The cylinder's centre in cells."""
    lo, hi = case.shape.bounds
    return tuple(0.5 * (a + b) / case.units.dx for a, b in zip(lo, hi, strict=True))


def _window_slices(spec: WakeSpec, case) -> tuple[slice, slice]:
    """Rows and columns of the stored window (the whole grid without one)."""
    nx, ny = case.solver.grid
    if spec.window is None:
        return slice(0, ny), slice(0, nx)
    cx, cy = _centre_cells(case)
    d = spec.cells_per_diameter
    x0, x1, y0, y1 = spec.window
    cols = slice(max(0, round(cx + x0 * d)), min(nx, round(cx + x1 * d)))
    rows = slice(max(0, round(cy + y0 * d)), min(ny, round(cy + y1 * d)))
    if cols.stop - cols.start < 4 or rows.stop - rows.start < 4:
        raise WakeError(f"window {spec.window} leaves fewer than 4 cells inside the channel")
    return rows, cols


def _snapshot(case, rows: slice, cols: slice) -> dict[str, np.ndarray]:
    from flowlearn.physics.lbm import observables

    _, u = case.solver.macroscopic()
    u = np.nan_to_num(u)[:, rows, cols] / case.units.u_lattice
    d = case.units.length_cells
    return {
        "u": u[0].astype(np.float32),
        "v": u[1].astype(np.float32),
        "vorticity": (observables.vorticity(u) * d).astype(np.float32),
    }


def _template(spec: WakeSpec, case, rows: slice, cols: slice):
    import dask.array as da
    import xarray as xr

    ny, nx = rows.stop - rows.start, cols.stop - cols.start
    n = spec.n
    cx, cy = _centre_cells(case)
    d = spec.cells_per_diameter
    units = {"u": "U", "v": "U", "vorticity": "U / D"}
    data = {
        name: (("time", "y", "x"), da.zeros((n, ny, nx), "float32", chunks=(1, ny, nx)),
               {"units": units[name]})
        for name in FIELDS
    }  # fmt: skip
    for name in ("cl", "cd", "time_value"):
        data[name] = ("time", da.full((n,), np.nan, "float64", chunks=(1,)), {})
    data["status"] = ("time", da.full((n,), PENDING, "int8", chunks=(1,)), {})
    fluid = case.solver.fluid[1:-1, 1:-1].T[rows, cols]
    data["mask"] = (("y", "x"), (~fluid).astype(np.uint8), {"long_name": "solid cells"})
    coords = {
        "time": np.arange(n),
        "x": ((np.arange(cols.start, cols.stop) + 0.5) - cx) / d,
        "y": ((np.arange(rows.start, rows.stop) + 0.5) - cy) / d,
    }
    attrs = {
        "title": "flowlearn cylinder wake snapshots",
        "source": "flowlearn lattice Boltzmann solver (D2Q9 TRT, Bouzidi walls)",
        MARK: KIND,
        **spec.to_attrs(),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _owned(attrs: dict[str, Any]) -> bool:
    return attrs.get(MARK) == KIND


def state_path(path: str | Path) -> Path:
    """Where :func:`generate` keeps the solver's state of the wake at ``path``."""
    path = Path(path)
    return path.with_name(path.name + ".state.npz")


@dataclass
class WakeReport:
    path: Path
    computed: int
    resumed_from: int
    period_steps: float
    interval: int
    wall_time_s: float


def _settle(case, spec: WakeSpec) -> tuple[float, int]:
    """Run the transient (kicked), return the measured period (steps) and the interval."""
    from flowlearn.physics.lbm import observables

    solver = case.solver
    u = case.units.u_lattice
    d = spec.cells_per_diameter
    guess = d / (ST_GUESS[spec.channel] * u)
    rho, vel = solver.macroscopic()
    vel = np.nan_to_num(vel)
    cx, _ = _centre_cells(case)
    kick = 0.1 * u * np.exp(-(((np.arange(vel.shape[2]) - cx - 2 * d) / d) ** 2))
    vel[1] += kick[None, :]
    solver.initialise(np.nan_to_num(rho, nan=1.0), vel)
    sample = max(1, int(guess / 40))
    settle = int(spec.settle_periods * guess)
    lift = []
    while solver.time < settle:
        solver.step(sample)
        if solver.time >= settle - 4 * guess:
            lift.append(case.coefficients()["cl"])
        if not solver.check_finite():
            raise WakeError(
                f"the wake diverged at step {solver.time} during the transient: raise "
                "cells_per_diameter or lower u_lattice"
            )
    freq = observables.dominant_frequency(np.array(lift), sample)
    if not (0.3 / guess < freq < 3.0 / guess):
        raise WakeError(
            f"no shedding found: the lift's strongest frequency {freq:.3g} per step is far from "
            f"the guess {1 / guess:.3g}; is Re = {spec.re:g} above the onset of shedding (~47)?"
        )
    period = 1.0 / freq
    return period, max(1, round(period / spec.per_period))


def generate(
    spec: WakeSpec,
    path: str | Path,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> WakeReport:
    """Make (or finish) the wake ``spec`` at ``path`` (a ``.zarr`` store); resumable: a killed
    generation continues from the last saved state. ``progress(done, n)`` after each snapshot.
    A store made for another spec is refused, naming what differs."""
    from flowlearn.physics.lbm import solver_memory

    start = time.perf_counter()
    path = Path(path)
    exists = sample_store.check_existing(path, spec, STORE)
    grid = wake_grid(spec)
    # the lattice, one snapshot's arrays (float64 while made) and the state file's copy
    require_memory(
        solver_memory(grid, "D2Q9", spec.dtype) + 2 * 9 * 8 * math.prod(grid),
        f"generating the {spec.channel} wake at Re {spec.re:g} ({grid[0]}x{grid[1]} cells)",
        "use a coarser resolution",
    )
    case = wake_case(spec)
    rows, cols = _window_slices(spec, case)
    with sample_store.store_lock(path, "generating"):
        if not exists:
            sample_store.create_store(_template(spec, case, rows, cols), path, _owned)
        group = sample_store.open_group(path, STORE, "r+")
        codes = sample_store.read_status(path, STORE)
        done = int(np.argmin(codes == OK)) if not (codes == OK).all() else spec.n
        resumed = 0
        saved = state_path(path)
        if done == spec.n:
            return WakeReport(path, 0, done, group.attrs["period_steps"],
                              group.attrs["interval"], time.perf_counter() - start)  # fmt: skip
        ahead = True
        if done > 0 and saved.is_file():
            meta = read_state_meta(saved)
            ahead = int(meta.get("done", 0)) > done  # snapshots lost since: start again
        if done > 0 and saved.is_file() and not ahead:
            meta = case.solver.load_state(saved)
            resumed = int(meta.get("done", 0))
            period, interval = float(group.attrs["period_steps"]), int(group.attrs["interval"])
        else:
            resumed = 0
            period, interval = _settle(case, spec)
            group.attrs.update(period_steps=period, interval=interval)
            case.solver.save_state(saved, attrs={"done": 0}, overwrite=False)
        steps_per_time = spec.cells_per_diameter / case.units.u_lattice  # steps per D / U
        t_first = case.solver.time - resumed * interval
        for k in range(resumed, spec.n):
            case.solver.step(interval)
            if not case.solver.check_finite():
                raise WakeError(f"the wake diverged at step {case.solver.time}")
            coeff = case.coefficients()
            values: dict[str, Any] = _snapshot(case, rows, cols)
            values |= {
                "cl": coeff["cl"],
                "cd": coeff["cd"],
                "time_value": (case.solver.time - t_first) / steps_per_time,
            }
            sample_store.write_sample(group, k, values, OK)
            if (k + 1) % CHECKPOINT == 0 or k + 1 == spec.n:
                case.solver.save_state(saved, attrs={"done": k + 1})
            if progress is not None:
                progress(k + 1, spec.n)
    return WakeReport(
        path, spec.n - resumed, resumed, period, interval, time.perf_counter() - start
    )


def read(path: str | Path):
    """The wake at ``path`` verified and in memory: an ``xarray.Dataset`` of ``u``, ``v``,
    ``vorticity`` ``(time, y, x)``, ``cl``, ``cd``, ``time_value`` (``D / U``) and the solid
    ``mask``, with the Strouhal number of the stored lift in ``attrs["strouhal"]``. A
    :class:`WakeError` names the snapshots not yet made or damaged."""
    import xarray as xr

    from flowlearn.physics.lbm import observables

    path = Path(path)
    codes = sample_store.read_status(path, STORE)
    spec = WakeSpec.from_attrs(dict(sample_store.open_group(path, STORE).attrs))
    shape = sample_store.open_group(path, STORE)["u"].shape
    require_memory(
        2 * len(FIELDS) * 4 * math.prod(shape),
        f"the {spec.n} snapshots of {path}",
        "read a smaller wake, or on a machine with more memory",
    )
    if not (codes == OK).all():
        missing = np.flatnonzero(codes != OK)
        raise WakeError(
            f"{path}: snapshot(s) {sample_store.indices_text(missing)} are not made yet: "
            "run generate with the same spec to finish it"
        )
    group = sample_store.open_group(path, STORE)
    bad: dict[int, str] = {}
    for name in (*FIELDS, "cl", "cd", "time_value"):
        _, broken = sample_store.read_checked(group[name])
        bad |= broken
    if bad:
        raise WakeError(
            f"{path}: snapshot(s) {sample_store.indices_text(bad)} are damaged; {STORE.repair}"
        )
    ds = xr.open_zarr(path, consolidated=False).load()
    dt = float(np.diff(ds["time_value"].values).mean())
    ds.attrs["strouhal"] = observables.dominant_frequency(ds["cl"].values, dt)
    ds.attrs["snapshot_dt"] = dt
    return ds
