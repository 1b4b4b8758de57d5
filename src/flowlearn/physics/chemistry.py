"""Detailed chemistry with Cantera: the ground truth that chemistry networks are measured against.

A state is ``(T, p, Y)``: temperature (K), pressure (Pa) and the mass fractions of every species
of the mechanism, in its order. Everything here is a constant-pressure, adiabatic 0-D reactor
(the building block of operator-split reacting CFD: each cell's chemistry over one flow step).

- :data:`MECHANISMS`: the mechanisms Cantera ships that flowlearn uses (``"h2o2"``: hydrogen /
  air, 10 species, 29 reactions; ``"gri30"``: GRI-Mech 3.0, methane / air, 53 species, 325
  reactions), with their fuel, oxidiser and the products defining the progress variable.
- :class:`Reactor`: one reactor and reactor network, made once and reused for every state it
  advances (the efficient use of Cantera: making a network costs more than a short step).
- :func:`ignition`: a whole autoignition at Cantera's adaptive steps, with its delay (the time
  of the steepest temperature rise, :func:`ignition_delay`).
- :func:`check_state` refuses non-physical states with a message naming the value and the limit.

Cantera is an optional dependency (``pip install cantera``, or flowlearn's ``chemistry`` extra):
:func:`require_cantera` says so when it is missing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

#: One standard atmosphere, Pa.
ONE_ATM = 101_325.0
#: Cantera's strict tolerances: the labels of the training data.
STRICT = (1e-9, 1e-15)
#: Mass fractions must sum to one within this.
SUM_TOLERANCE = 1e-6


class ChemistryError(ValueError):
    """A mechanism, species or state that flowlearn cannot integrate; the message says why."""


@dataclass(frozen=True)
class Mechanism:
    """A detailed mechanism shipped with Cantera, with the mixture flowlearn ignites.

    file: Cantera's YAML file; fuel / oxidiser: Cantera composition strings (air is
    ``O2:1, N2:3.76`` by moles); products: the species whose summed mass fraction, scaled by its
    final value, is the progress variable."""

    name: str
    file: str
    fuel: str
    oxidiser: str
    products: tuple[str, ...]
    description: str


MECHANISMS: dict[str, Mechanism] = {
    "h2o2": Mechanism(
        "h2o2",
        "h2o2.yaml",
        "H2",
        "O2:1.0, N2:3.76",
        ("H2O",),
        "hydrogen / air, 10 species, 29 reactions (Cantera's h2o2.yaml)",
    ),
    "gri30": Mechanism(
        "gri30",
        "gri30.yaml",
        "CH4",
        "O2:1.0, N2:3.76",
        ("CO2", "CO", "H2O"),
        "methane / air, GRI-Mech 3.0: 53 species, 325 reactions",
    ),
}


def require_cantera():
    """The ``cantera`` module, or an ImportError that says how to install it."""
    try:
        import cantera
    except ImportError:
        raise ImportError(
            "flowlearn's chemistry needs Cantera: pip install cantera (or pip install "
            "'flowlearn[chemistry]')"
        ) from None
    return cantera


def mechanism(name: str) -> Mechanism:
    """The mechanism called ``name``; a :class:`ChemistryError` lists the known ones."""
    try:
        return MECHANISMS[name]
    except KeyError:
        raise ChemistryError(
            f"unknown mechanism {name!r}: choose one of {', '.join(MECHANISMS)}"
        ) from None


@cache
def _solution(file: str):
    return require_cantera().Solution(file)


def solution(name: str):
    """A new Cantera ``Solution`` of the mechanism ``name`` (its own state, safe to change)."""
    ct = require_cantera()
    return ct.Solution(mechanism(name).file)


def species(name: str) -> list[str]:
    """The species of the mechanism, in the order of every ``Y`` array."""
    return list(_solution(mechanism(name).file).species_names)


def species_index(name: str, sp: str) -> int:
    """Index of species ``sp`` in the mechanism; a :class:`ChemistryError` if it has none."""
    names = species(name)
    if sp not in names:
        raise ChemistryError(
            f"species {sp!r} is not in {name} ({len(names)} species: "
            f"{', '.join(names[:12])}{' ...' if len(names) > 12 else ''})"
        )
    return names.index(sp)


def element_matrix(name: str) -> tuple[list[str], np.ndarray]:
    """``(elements, E)`` with ``E[e, k]`` the mass of element ``e`` per mass of species ``k``:
    the element mass fractions of a state are ``E @ Y``, conserved by any reaction."""
    gas = _solution(mechanism(name).file)
    atoms = np.array(
        [[gas.n_atoms(k, e) for k in range(gas.n_species)] for e in range(gas.n_elements)]
    )
    mat = atoms * gas.atomic_weights[:, None] / gas.molecular_weights[None, :]
    return list(gas.element_names), mat


@dataclass(frozen=True)
class Nasa7:
    """The mechanism's NASA 7-coefficient polynomials: ``t_mid (S,)`` K, ``low`` and ``high``
    ``(S, 7)`` (below and above ``t_mid``), molecular weights ``W (S,)`` kg/kmol. The mass
    enthalpy of species k is ``R / W_k (a1 T + a2 T^2/2 + a3 T^3/3 + a4 T^4/4 + a5 T^5/5 + a6)``."""

    t_mid: np.ndarray
    low: np.ndarray
    high: np.ndarray
    W: np.ndarray


#: Universal gas constant, J / (kmol K) (Cantera's units).
GAS_CONSTANT = 8314.462618


def nasa7(name: str) -> Nasa7:
    """The NASA-7 thermodynamics of every species of the mechanism (a :class:`ChemistryError`
    if a species uses another parameterisation)."""
    gas = _solution(mechanism(name).file)
    coeffs = []
    for sp in gas.species():
        if type(sp.thermo).__name__ != "NasaPoly2":
            raise ChemistryError(
                f"species {sp.name} of {name} has {type(sp.thermo).__name__} thermodynamics; "
                "flowlearn's energy conservation reads NASA-7 polynomials only"
            )
        coeffs.append(np.asarray(sp.thermo.coeffs, float))
    c = np.array(coeffs)
    return Nasa7(t_mid=c[:, 0], high=c[:, 1:8], low=c[:, 8:15], W=np.array(gas.molecular_weights))


def initial_state(name: str, T0: float, p: float, phi: float) -> np.ndarray:
    """The unburnt mixture at equivalence ratio ``phi``: its mass fractions ``Y`` (T0 in K and
    p in Pa are checked; the mixture does not depend on them)."""
    mech = mechanism(name)
    check_conditions(T0, p, phi)
    gas = solution(name)
    gas.set_equivalence_ratio(phi, mech.fuel, mech.oxidiser)
    return np.array(gas.Y)


def check_conditions(T0: float, p: float, phi: float) -> None:
    """Refuse an initial temperature, pressure or equivalence ratio that is not physical."""
    if not (math.isfinite(T0) and T0 > 0):
        raise ChemistryError(f"temperature {T0:g} K must be positive")
    if not (math.isfinite(p) and p > 0):
        raise ChemistryError(f"pressure {p:g} Pa must be positive")
    if not (math.isfinite(phi) and phi > 0):
        raise ChemistryError(f"equivalence ratio {phi:g} must be positive")


def check_state(name: str, T: Any, p: Any, Y: Any) -> None:
    """Refuse states that are not physical: ``T`` and ``p`` positive and finite, ``Y`` of the
    mechanism's width, non-negative, summing to one (within :data:`SUM_TOLERANCE`)."""
    T, p, Y = np.atleast_1d(T), np.atleast_1d(p), np.atleast_2d(Y)
    n = len(species(name))
    if Y.shape[-1] != n:
        raise ChemistryError(f"mass fractions have {Y.shape[-1]} species; {name} has {n}")
    if not np.isfinite(T).all() or (T <= 0).any():
        raise ChemistryError(f"temperature {float(np.nanmin(T)):g} K must be positive and finite")
    if not np.isfinite(p).all() or (p <= 0).any():
        raise ChemistryError(f"pressure {float(np.nanmin(p)):g} Pa must be positive and finite")
    if not np.isfinite(Y).all() or (Y < -SUM_TOLERANCE).any():
        raise ChemistryError(f"mass fraction {float(np.nanmin(Y)):.3g} must not be negative")
    total = Y.sum(axis=-1)
    worst = float(total[np.argmax(np.abs(total - 1.0))])
    if abs(worst - 1.0) > SUM_TOLERANCE:
        raise ChemistryError(
            f"mass fractions sum to {worst:.9g}, not 1 (tolerance {SUM_TOLERANCE:g})"
        )


#: Reactor models compared for the efficient baseline: Cantera's mass-fraction and mole-based
#: constant-pressure reactors (the latter is the one its preconditioner works with).
REACTOR_KINDS = ("mass", "mole")


class Reactor:
    """A reusable constant-pressure reactor that advances states by a time step.

    Made once, then :meth:`advance` sets the state, reinitialises the integrator and integrates
    ``dt`` (CVODES BDF, Cantera's own). rtol / atol: the integrator's tolerances (strict
    ``1e-9 / 1e-15`` are the labels; ``1e-6 / 1e-10`` a production setting). kind: ``"mass"``
    (``IdealGasConstPressureReactor``) or ``"mole"`` (``IdealGasConstPressureMoleReactor``).
    preconditioned: Cantera's adaptive preconditioner with GMRES (pays off for mechanisms of
    hundreds of species; for gri30 it is slower, measured by ``flowlearn bench chemistry``).
    """

    def __init__(
        self,
        name: str,
        rtol: float = STRICT[0],
        atol: float = STRICT[1],
        kind: str = "mass",
        preconditioned: bool = False,
    ) -> None:
        ct = require_cantera()
        if kind not in REACTOR_KINDS:
            raise ChemistryError(f"reactor kind {kind!r}: choose {' or '.join(REACTOR_KINDS)}")
        if not (0 < rtol < 1 and 0 < atol < 1):
            raise ChemistryError(f"tolerances rtol {rtol:g}, atol {atol:g} must lie in (0, 1)")
        if preconditioned and kind != "mole":
            raise ChemistryError("Cantera's preconditioner works with the mole reactor only")
        self.name, self.rtol, self.atol, self.kind = name, rtol, atol, kind
        self.preconditioned = preconditioned
        self.gas = solution(name)
        cls = (
            ct.IdealGasConstPressureMoleReactor
            if kind == "mole"
            else ct.IdealGasConstPressureReactor
        )
        self.reactor = cls(self.gas, clone=False)  # it shares self.gas, set in set_state
        self.net = ct.ReactorNet([self.reactor])
        self.net.rtol, self.net.atol = rtol, atol
        if preconditioned:
            self.net.preconditioner = ct.AdaptivePreconditioner()

    @property
    def label(self) -> str:
        pre = " + preconditioner" if self.preconditioned else ""
        return f"{self.kind} reactor{pre}, rtol {self.rtol:g} / atol {self.atol:g}"

    def set_state(self, T: float, p: float, Y: np.ndarray) -> None:
        self.gas.TPY = T, p, Y
        self.reactor.syncState()
        self.net.reinitialize()
        self.net.initial_time = 0.0

    def advance(self, T: float, p: float, Y: np.ndarray, dt: float) -> tuple[float, np.ndarray]:
        """The state ``dt`` seconds after ``(T, p, Y)``: ``(T, Y)``."""
        self.set_state(T, p, Y)
        self.net.advance(dt)
        return float(self.reactor.T), np.array(self.reactor.phase.Y)

    def advance_many(self, T: np.ndarray, p: np.ndarray, Y: np.ndarray, dt: float) -> np.ndarray:
        """Advance each of ``N`` states ``(T (N,), p (N,), Y (N, S))`` by ``dt``; returns
        ``(N, 1 + S)``: the new temperature then the mass fractions."""
        out = np.empty((len(T), 1 + Y.shape[1]))
        for i in range(len(T)):
            t, y = self.advance(float(T[i]), float(p[i]), Y[i], dt)
            out[i, 0], out[i, 1:] = t, y
        return out


@dataclass
class Trajectory:
    """An autoignition: times ``t`` (s), temperature ``T`` (K), mass fractions ``Y`` (N, S)
    at each time, the pressure ``p`` (Pa) and the ignition delay ``tau`` (s)."""

    t: np.ndarray
    T: np.ndarray
    Y: np.ndarray
    p: float
    tau: float

    def temperature_at(self, t: float) -> float:
        """The temperature at time ``t`` (s), interpolated."""
        return float(np.interp(t, self.t, self.T))


def ignition_delay(t: np.ndarray, T: np.ndarray) -> float:
    """The time of the steepest temperature rise (s), refined by a parabola through the largest
    slope and its neighbours; NaN when the temperature never rises by 100 K (no ignition) or is
    not finite (a diverged rollout)."""
    t, T = np.asarray(t, float), np.asarray(T, float)
    if len(t) < 3 or not np.isfinite(T).all() or T.max() - T[0] < 100.0:
        return math.nan
    slope = np.diff(T) / np.diff(t)
    mid = 0.5 * (t[1:] + t[:-1])
    i = int(np.argmax(slope))
    if 0 < i < len(slope) - 1:
        y0, y1, y2 = slope[i - 1 : i + 2]
        x0, x1, x2 = mid[i - 1 : i + 2]
        denom = (x0 - x1) * (x0 - x2) * (x1 - x2)
        a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denom if denom else 0.0
        b = (x2**2 * (y0 - y1) + x1**2 * (y2 - y0) + x0**2 * (y1 - y2)) / denom if denom else 0.0
        if a < 0:
            vertex = -b / (2 * a)
            if x0 <= vertex <= x2:
                return float(vertex)
    return float(mid[i])


def ignition(
    name: str,
    T0: float,
    p: float,
    phi: float,
    *,
    t_end: float | None = None,
    rtol: float = STRICT[0],
    atol: float = STRICT[1],
    max_time: float = 10.0,
    times: np.ndarray | None = None,
) -> Trajectory:
    """Autoignition at constant pressure from the unburnt mixture at ``T0`` (K), ``p`` (Pa),
    ``phi``, at Cantera's adaptive steps (or exactly at ``times``, s, increasing).

    Without ``t_end`` it runs to :data:`END_FACTOR` times the ignition delay (found on the way:
    once the temperature is up by 400 K, the steepest rise so far is located after every
    step), giving up at ``max_time`` seconds with a :class:`ChemistryError` (no ignition)."""
    Y0 = initial_state(name, T0, p, phi)
    r = Reactor(name, rtol, atol)
    r.set_state(T0, p, Y0)
    ts, Ts, Ys = [0.0], [T0], [Y0]
    if times is not None:
        for t in np.asarray(times, float):
            if t <= 0:
                continue
            r.net.advance(t)
            ts.append(t)
            Ts.append(r.reactor.T)
            Ys.append(np.array(r.reactor.phase.Y))
    else:
        end = t_end if t_end is not None else math.inf
        ignited_at = math.inf
        while r.net.time < end:
            r.net.step()
            ts.append(r.net.time)
            Ts.append(r.reactor.T)
            Ys.append(np.array(r.reactor.phase.Y))
            if t_end is None and (ignited_at < math.inf or Ts[-1] > T0 + 400.0):
                # the steepest rise may still be ahead when T0 + 400 K is passed: re-estimate
                ignited_at = min(ignited_at, r.net.time)
                end = END_FACTOR * ignition_delay(np.array(ts), np.array(Ts))
            if r.net.time > max_time:
                raise ChemistryError(
                    f"no ignition within {max_time:g} s at T0 {T0:g} K, p {p:g} Pa, phi "
                    f"{phi:g}: the mixture is too cold or too lean for a 0-D ignition"
                )
    t, T, Y = np.array(ts), np.array(Ts), np.array(Ys)
    return Trajectory(t=t, T=T, Y=Y, p=p, tau=ignition_delay(t, T))


#: An ignition is followed to this many times its delay (the products near equilibrium).
END_FACTOR = 1.5


def progress_variable(name: str, Y: np.ndarray) -> np.ndarray:
    """The summed mass fraction of the mechanism's products, ``(N, S) -> (N,)``."""
    idx = [species_index(name, s) for s in mechanism(name).products]
    return np.asarray(Y)[..., idx].sum(axis=-1)
