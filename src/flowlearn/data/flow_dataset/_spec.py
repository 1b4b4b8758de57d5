"""What decides a flow dataset's numbers (:class:`FlowDatasetSpec`), and one sample made by
the LBM: its body, its steady-state recipe, its status."""

from __future__ import annotations

import hashlib
import json
import math
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from flowlearn.data.flow_fields import FIELD_NAMES
from flowlearn.data.sample_store import PENDING, StoreError, StoreKind

#: Bump when a change to the solver set-up or the shape families changes the numbers a spec
#: produces. 2: bodies keep 4 cells from the inlet on grids >= 32 cells long (a long pair or
#: scene could touch x = 2, where no drag control volume fits).
GENERATOR_VERSION = 2


#: Sample status codes (``status`` variable) beside :data:`PENDING` (0, not computed yet).
OK, UNSTEADY, DIVERGED, INVALID = 1, 2, 3, 4


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
#: A flow dataset in the messages of :mod:`flowlearn.data.sample_store`.
STORE = StoreKind(
    "dataset",
    make="make one with `flowlearn dataset generate`",
    repair="`flowlearn dataset generate` recomputes them",
    error=DatasetError,
)


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


#: How a warm start turns a guessed field into populations: "pressure" (the equilibrium at the
#: guessed velocity and at the density of the guessed pressure) or "mei" (Mei et al. 2006: the
#: density iterated with the guessed velocity held; needs a nearly divergence-free guess).
STARTS = ("pressure", "mei")


def start_from_fields(
    case, fields: np.ndarray, start: str = "pressure", *, mei_max_steps: int = 1000
) -> int:
    """Set the populations of ``case`` (a :func:`steady_case`) from dimensionless ``fields``
    ``(3, ny, nx)`` (u / U, v / U, p / rho U^2, as stored), solid cells ignored. Returns the
    steps the start took (0 for "pressure"). ``ValueError`` for a field of another grid, NaN
    in the fluid, or an unknown ``start``."""
    if start not in STARTS:
        raise ValueError(f"start {start!r}: choose {', '.join(STARTS)}")
    solver = case.solver
    fields = np.asarray(fields, dtype=np.float64)
    nx, ny = solver.grid
    if fields.shape != (3, ny, nx):
        raise ValueError(
            f"the guessed fields have shape {fields.shape}; the lattice needs (3, {ny}, {nx})"
        )
    fluid = solver.fluid[1:-1, 1:-1].T
    if not np.isfinite(fields[:, fluid]).all():
        raise ValueError("the guessed fields hold NaN or inf in the fluid")
    fields = np.where(fluid, fields, 0.0)
    u_ref = case.units.u_lattice
    u = fields[:2] * u_ref
    # p = c_s^2 (rho - 1) in lattice units, and the stored pressure is p / u_ref^2
    rho = 1.0 + 3.0 * fields[2] * u_ref**2
    if start == "mei":
        return solver.initialise_consistent(u, rho, max_steps=mei_max_steps)
    solver.initialise(rho, u)
    return 0


@dataclass
class Refined:
    """A steady state reached from a guess: ``fields (3, ny, nx)`` and ``mask``, the solver's
    ``report`` (steps after the start), ``start_steps`` (the start's own steps, Mei's
    iterations), ``fallback`` (why the guess was dropped for the uniform start, "" if it was
    not), the ``seconds`` of set-up, start and run, and ``crossings``: ``{tol: (steps,
    seconds)}`` when the residual first fell below each of the ``tols`` asked for."""

    fields: np.ndarray
    mask: np.ndarray
    report: Any
    start_steps: int
    fallback: str
    seconds: float
    crossings: dict[float, tuple[int, float]]


def refine(
    spec: FlowDatasetSpec,
    shape,
    re: float,
    guess: np.ndarray | None,
    *,
    start: str = "pressure",
    tols: tuple[float, ...] = (),
    threads: int | None = 1,
    callback=None,
) -> Refined:
    """Run the LBM of ``shape`` at ``re`` on ``spec``'s grid to ``spec``'s steady tolerance
    from ``guess`` (dimensionless fields ``(3, ny, nx)``; None: the dataset's uniform start),
    by the dataset's recipe (:func:`run_to_steady`). A guess that makes the run diverge is
    dropped: the run starts again from the uniform start and ``fallback`` says why.
    ``ShapeError`` / ``ValueError`` for a body or a setting the solver refuses."""
    from flowlearn.physics.lbm import DivergenceError

    begin = time.perf_counter()
    crossings: dict[float, tuple[int, float]] = {}
    offset = [0, 0.0]

    def watch(solver, residual: float) -> None:
        for tol in tols:
            if tol not in crossings and residual < tol:
                crossings[tol] = (offset[0] + solver.time, time.perf_counter() - begin)
        if callback is not None:
            callback(solver, residual)

    def attempt(initial: np.ndarray | None) -> tuple[Any, Any, int]:
        with warnings.catch_warnings():
            from flowlearn.physics.lbm import StabilityWarning

            warnings.simplefilter("ignore", StabilityWarning)
            case = steady_case(spec, shape, re, threads)
        steps = 0 if initial is None else start_from_fields(case, initial, start)
        offset[0] = steps
        return case, run_to_steady(spec, case, callback=watch), steps

    fallback = ""
    try:
        case, report, start_steps = attempt(guess)
    except DivergenceError as exc:
        if guess is None:
            raise
        fallback = f"the warm start diverged ({exc}); started again from the uniform start"
        crossings.clear()
        case, report, start_steps = attempt(None)
    fields, mask = case.fields()
    return Refined(
        fields.astype(np.float32),
        mask,
        report,
        start_steps,
        fallback,
        time.perf_counter() - begin,
        crossings,
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
