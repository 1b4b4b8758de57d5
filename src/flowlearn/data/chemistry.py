"""Chemical states and their next step, labelled by Cantera: the training data of chemistry
networks, stored as a fingerprinted, resumable, checksummed Zarr store.

A :class:`ChemSpec` names everything that decides the numbers: the mechanism, the ranges of the
initial temperature, pressure and equivalence ratio, the number of trajectories and of states
per trajectory, the perturbation, the step ``dt`` and the seed. Sample ``i`` of the store is one
constant-pressure autoignition, with conditions drawn from ``(seed, i)`` alone (so a sample is
the same whichever worker makes it, and held-out sets are whole trajectories):

1. Cantera runs the ignition at strict tolerances to :data:`~flowlearn.physics.chemistry.
   END_FACTOR` times its delay;
2. ``states`` states are taken on it: the initial state, half of the rest uniform in progress
   variable (the products' mass fraction over its final value) and half uniform in time (the
   induction period, where the radical pool that sets the delay builds up while the progress
   variable barely moves, would otherwise get almost no samples);
3. each state gets a randomly perturbed copy (temperature times ``1 + perturb_T * N(0, 1)``,
   each mass fraction times ``exp(perturb_Y * N(0, 1))``, renormalised): a network trained on
   the manifold alone is not robust to the off-manifold states its own errors create (Zhang et
   al., Combust. Flame 2022);
4. every state is advanced by ``dt`` by Cantera at strict tolerances (the labels).

The store holds, per trajectory: ``x`` and ``y`` ``(state, var)`` (vars: ``T`` then the mass
fractions, in the mechanism's order), ``kind`` (0 on the manifold, 1 perturbed), ``time``, the
conditions ``T0``, ``p`` (Pa), ``phi``, the reference ignition delay ``tau``, peak and
final temperatures, and the CPU seconds the trajectory cost (the data's share of a
break-even). Generation runs on local processes or a Dask cluster
(:func:`~flowlearn.data.sample_store.compute_pending`); a killed one resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from flowlearn.data import sample_store
from flowlearn.data.sample_store import PENDING, StoreError, StoreKind
from flowlearn.physics import chemistry as chem
from flowlearn.safety.memory import require_memory
from flowlearn.safety.outputs import MARK

#: Bump when a change to the sampling or the labels changes the numbers a spec produces.
CHEM_VERSION = 1
KIND = "chemical states"
OK = 1
#: Steps dt the issue names (s): 1e-6 by default, 1e-7 and 1e-5 as options.
STEPS = (1e-7, 1e-6, 1e-5)


class ChemDataError(StoreError):
    """A chemistry store that cannot be used or resumed; the message says why and what to do."""


STORE = StoreKind(
    "chemistry dataset",
    make="make one with flowlearn.data.chemistry.generate (or flowlearn run chemistry)",
    repair="generate it again with the same spec: the damaged trajectories are recomputed",
    error=ChemDataError,
)


def _pair(value, what: str) -> tuple[float, float]:
    lo, hi = (float(v) for v in value)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
        raise ChemDataError(f"{what} range {value} must be positive with low <= high")
    return lo, hi


@dataclass(frozen=True)
class ChemSpec:
    """What decides a chemistry dataset; its :attr:`fingerprint` names it.

    mechanism: ``"h2o2"`` or ``"gri30"``. T0: initial temperatures (K); p: pressures (atm,
    drawn log-uniformly); phi: equivalence ratios. n: trajectories (the samples); states:
    states per trajectory (each with one perturbed copy: ``2 * states`` labelled states).
    dt: the step the labels advance (s). perturb_T, perturb_Y: relative perturbation sizes.
    """

    mechanism: str = "h2o2"
    T0: tuple[float, float] = (1000.0, 1300.0)
    p: tuple[float, float] = (1.0, 2.0)
    phi: tuple[float, float] = (0.7, 1.3)
    n: int = 64
    states: int = 100
    dt: float = 1e-6
    perturb_T: float = 0.005
    perturb_Y: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        chem.mechanism(self.mechanism)
        for name in ("T0", "p", "phi"):
            object.__setattr__(self, name, _pair(getattr(self, name), name))
        if self.n < 1:
            raise ChemDataError(f"n = {self.n} trajectories: at least 1")
        if self.states < 3:
            raise ChemDataError(f"states = {self.states} per trajectory: at least 3")
        if not (0 < self.dt <= 1e-3):
            raise ChemDataError(f"step dt = {self.dt:g} s must lie in (0, 1e-3]")
        if not (0 <= self.perturb_T < 0.2 and 0 <= self.perturb_Y < 2):
            raise ChemDataError(
                f"perturbations {self.perturb_T:g} (T), {self.perturb_Y:g} (Y) must lie in "
                "[0, 0.2) and [0, 2)"
            )

    @property
    def fingerprint(self) -> str:
        blob = json.dumps({**asdict(self), "chem_version": CHEM_VERSION}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()

    def to_attrs(self) -> dict[str, Any]:
        out = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        return {**out, "fingerprint": self.fingerprint, "chem_version": CHEM_VERSION}

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> ChemSpec:
        names = cls.__dataclass_fields__
        return cls(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in attrs.items() if k in names}
        )

    @property
    def labelled(self) -> int:
        """Labelled states per trajectory."""
        return 2 * self.states


def conditions(spec: ChemSpec, i: int) -> tuple[float, float, float]:
    """``(T0 K, p Pa, phi)`` of trajectory ``i``, from ``(seed, i)`` alone."""
    rng = np.random.default_rng([spec.seed, i, 0])
    T0 = rng.uniform(*spec.T0)
    p = math.exp(rng.uniform(math.log(spec.p[0]), math.log(spec.p[1]))) * chem.ONE_ATM
    phi = rng.uniform(*spec.phi)
    return float(T0), float(p), float(phi)


def perturbed(
    T: np.ndarray, Y: np.ndarray, rng: np.random.Generator, sigma_T: float, sigma_Y: float
) -> tuple[np.ndarray, np.ndarray]:
    """Copies of the states ``T (N,)``, ``Y (N, S)`` moved off the manifold: T times
    ``1 + sigma_T N(0,1)``, each Y times ``exp(sigma_Y N(0,1))``, renormalised to sum 1."""
    T2 = T * (1.0 + sigma_T * rng.standard_normal(T.shape))
    Y2 = Y * np.exp(sigma_Y * rng.standard_normal(Y.shape))
    return T2, Y2 / Y2.sum(axis=-1, keepdims=True)


def compute_trajectory(spec: ChemSpec, i: int) -> dict[str, Any]:
    """Sample ``i``: the labelled states of one ignition (module level: Dask workers call it)."""
    start = time.process_time()
    T0, p, phi = conditions(spec, i)
    ref = chem.ignition(spec.mechanism, T0, p, phi)
    rng = np.random.default_rng([spec.seed, i, 1])
    c = np.maximum.accumulate(chem.progress_variable(spec.mechanism, ref.Y))
    c = (c - c[0]) / max(c[-1] - c[0], 1e-300)
    t_end = float(ref.t[-1])
    n_c = (spec.states - 1) // 2
    n_t = spec.states - 1 - n_c
    # the progress variable plateaus (c repeats): interpolate on its first occurrences
    keep = np.concatenate([[True], np.diff(c) > 0])
    t_c = np.interp(rng.uniform(0.0, 1.0, n_c), c[keep], ref.t[keep])
    t_t = rng.uniform(0.0, t_end, n_t)
    times = np.sort(np.concatenate([t_c, t_t]))
    at = chem.ignition(spec.mechanism, T0, p, phi, times=times)
    T, Y = at.T, at.Y  # the initial state first, then one per time
    tp, Yp = perturbed(T, Y, rng, spec.perturb_T, spec.perturb_Y)
    T_all, Y_all = np.concatenate([T, tp]), np.concatenate([Y, Yp])
    reactor = chem.Reactor(spec.mechanism, *chem.STRICT)
    y = reactor.advance_many(T_all, np.full(len(T_all), p), Y_all, spec.dt)
    return {
        "index": i,
        "x": np.column_stack([T_all, Y_all]),
        "y": y,
        "kind": np.r_[np.zeros(len(T), np.int8), np.ones(len(T), np.int8)],
        "time": np.r_[at.t, at.t],
        "T0": T0,
        "p": p,
        "phi": phi,
        "tau": ref.tau,
        "T_peak": float(ref.T.max()),
        "T_final": ref.temperature_at(chem.END_FACTOR * ref.tau),
        "seconds": time.process_time() - start,
    }


SCALARS = ("T0", "p", "phi", "tau", "T_peak", "T_final", "seconds")


def _template(spec: ChemSpec):
    import dask.array as da
    import xarray as xr

    n, s, names = spec.n, spec.labelled, chem.species(spec.mechanism)
    v = 1 + len(names)

    def block(dtype, fill, *shape):
        return da.full((n, *shape), fill, dtype, chunks=(1, *shape))

    data = {
        "x": (
            ("trajectory", "state", "var"),
            block("float64", np.nan, s, v),
            {"long_name": "state: T (K) then mass fractions"},
        ),
        "y": (
            ("trajectory", "state", "var"),
            block("float64", np.nan, s, v),
            {"long_name": "the state dt later (Cantera, strict tolerances)"},
        ),
        "kind": (
            ("trajectory", "state"),
            block("int8", -1, s),
            {"long_name": "0: on the ignition manifold, 1: perturbed"},
        ),
        "time": (("trajectory", "state"), block("float64", np.nan, s), {"units": "s"}),
        "status": (("trajectory",), block("int8", PENDING), {}),
    }
    units = {
        "T0": "K",
        "p": "Pa",
        "phi": "1",
        "tau": "s",
        "T_peak": "K",
        "T_final": "K",
        "seconds": "s",
    }
    for name in SCALARS:
        data[name] = (("trajectory",), block("float64", np.nan), {"units": units[name]})
    attrs = {
        "title": "flowlearn chemical states and their next step",
        "source": f"Cantera {chem.require_cantera().__version__}, "
        f"{chem.mechanism(spec.mechanism).file}, constant-pressure reactor",
        MARK: KIND,
        **spec.to_attrs(),
    }
    attrs["variables"] = ["T", *names]  # a coordinate of strings has no Zarr v3 dtype yet
    return xr.Dataset(data, coords={"trajectory": np.arange(n)}, attrs=attrs)


def _owned(attrs: dict[str, Any]) -> bool:
    return attrs.get(MARK) == KIND


@dataclass
class GenerationReport:
    path: Path
    computed: int
    wall_time_s: float


def store_bytes(spec: ChemSpec) -> int:
    """Bytes of the dataset's arrays in memory (float64 ``x`` and ``y``)."""
    return 2 * 8 * spec.n * spec.labelled * (1 + len(chem.species(spec.mechanism)))


def generate(
    spec: ChemSpec,
    path: str | Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> GenerationReport:
    """Make (or finish) the dataset ``spec`` at ``path`` (a ``.zarr`` store): the pending
    trajectories on ``workers`` local processes or the Dask scheduler at ``scheduler``;
    ``progress(done, todo)`` after each. A store made for another spec is refused."""
    chem.require_cantera()
    start = time.perf_counter()
    path = Path(path)
    require_memory(
        store_bytes(spec),
        f"the {spec.n * spec.labelled} states of {path.name}",
        "use fewer trajectories or states",
    )
    exists = sample_store.check_existing(path, spec, STORE)
    with sample_store.store_lock(path, "generating"):
        if not exists:
            sample_store.create_store(_template(spec), path, _owned)
        group = sample_store.open_group(path, STORE, "r+")
        todo = np.flatnonzero(sample_store.read_status(path, STORE) != OK).tolist()

        def store(result: dict[str, Any], done: int) -> None:
            i = result.pop("index")
            sample_store.write_sample(group, i, result, OK)
            if progress is not None:
                progress(done, len(todo))

        sample_store.compute_pending(
            compute_trajectory,
            spec,
            todo,
            store,
            workers=min(workers, len(todo)),
            scheduler=scheduler,
        )
    return GenerationReport(path, len(todo), time.perf_counter() - start)


def read(path: str | Path):
    """The dataset at ``path``, verified and in memory (an ``xarray.Dataset``); a
    :class:`ChemDataError` names the trajectories not made yet or damaged."""
    import xarray as xr

    path = Path(path)
    codes = sample_store.read_status(path, STORE)
    if not (codes == OK).all():
        missing = np.flatnonzero(codes != OK)
        raise ChemDataError(
            f"{path}: trajectory(ies) {sample_store.indices_text(missing)} are not made yet: "
            "run generate with the same spec to finish it"
        )
    group = sample_store.open_group(path, STORE)
    spec = ChemSpec.from_attrs(dict(group.attrs))
    require_memory(store_bytes(spec), f"the states of {path}", "read a smaller dataset")
    bad: dict[int, str] = {}
    for name in ("x", "y", "kind", "time", *SCALARS):
        _, broken = sample_store.read_checked(group[name])
        bad |= broken
    if bad:
        raise ChemDataError(
            f"{path}: trajectory(ies) {sample_store.indices_text(bad)} are damaged; {STORE.repair}"
        )
    ds = xr.open_zarr(path, consolidated=False).load()
    return ds.assign_coords(var=list(ds.attrs["variables"]))


def spec_of(path: str | Path) -> ChemSpec:
    """The spec the store at ``path`` was made for."""
    return ChemSpec.from_attrs(dict(sample_store.open_group(path, STORE).attrs))
