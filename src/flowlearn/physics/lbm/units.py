"""Physical <-> lattice units and the stability checks done before a run.

A flow is set by its Reynolds number ``Re = U L / nu``. Choosing the characteristic length in
cells ``L`` and the lattice velocity ``U`` (cells/step) fixes the lattice viscosity
``nu = U L / Re`` and ``tau = 3 nu + 1/2``; the physical scales ``dx = L_phys / L`` and
``dt = dx U / U_phys`` convert back.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

from flowlearn.physics.lbm.collision import TAU_MIN

#: speed of sound of the standard lattices, cells/step.
CS = 1.0 / math.sqrt(3.0)
MACH_MAX = 0.3
MACH_WARN = 0.1


class StabilityWarning(UserWarning):
    """A setup that runs but whose compressibility or resolution error may be visible."""


def mach(u_lattice: float) -> float:
    """Mach number of a lattice speed: ``u / c_s`` with ``c_s = 1/sqrt(3)``."""
    return abs(u_lattice) / CS


def check_mach(u_lattice: float) -> None:
    """Refuse Ma > 0.3, warn above 0.1 (compressibility error grows like Ma^2)."""
    ma = mach(u_lattice)
    if ma > MACH_MAX:
        raise ValueError(
            f"Mach number {ma:.3g} exceeds {MACH_MAX}: lower the lattice velocity "
            f"(now {u_lattice:.3g} cells/step) or refine the grid"
        )
    if ma > MACH_WARN:
        warnings.warn(
            f"Mach number {ma:.3g} exceeds {MACH_WARN}: compressibility error ~ Ma^2 = "
            f"{ma**2:.1%}; lower the lattice velocity for accuracy",
            StabilityWarning,
            stacklevel=3,
        )


@dataclass(frozen=True)
class LatticeUnits:
    """Lattice parameters of a flow and the factors to physical units.

    re: Reynolds number ``U L / nu`` (> 0).
    length_cells: characteristic length L in cells (cylinder diameter, cavity side); 20-40
        resolves a cylinder at Re <= 100.
    u_lattice: characteristic velocity U in cells/step; 0.05 (Ma 0.087) is a good start,
        must stay below 0.17 (Ma 0.3).
    length: L in metres (or any length unit); velocity: U in m/s; both only scale outputs.
    """

    re: float
    length_cells: float
    u_lattice: float
    length: float = 1.0
    velocity: float = 1.0

    def __post_init__(self) -> None:
        try:
            re = float(self.re)
        except (TypeError, ValueError):
            re = math.nan
        if not (math.isfinite(re) and re > 0):
            raise ValueError(f"Reynolds number {self.re} must be a positive finite number")
        if not self.length_cells > 0:
            raise ValueError(f"characteristic length {self.length_cells} cells must be positive")
        if not self.u_lattice > 0:
            raise ValueError(f"lattice velocity {self.u_lattice} must be positive")
        if not (self.length > 0 and self.velocity > 0):
            raise ValueError(
                f"physical length {self.length} and velocity {self.velocity} must be positive"
            )
        check_mach(self.u_lattice)
        if not self.tau > TAU_MIN:
            raise ValueError(
                f"relaxation time tau {self.tau:.5g} is below {TAU_MIN} at Re = {self.re:g}: "
                f"use more cells (L = {self.length_cells:g} now) or a larger lattice velocity "
                f"(U = {self.u_lattice:g} now)"
            )

    @property
    def nu(self) -> float:
        """Lattice kinematic viscosity, cells^2/step."""
        return self.u_lattice * self.length_cells / self.re

    @property
    def tau(self) -> float:
        return 3.0 * self.nu + 0.5

    @property
    def mach(self) -> float:
        return mach(self.u_lattice)

    @property
    def dx(self) -> float:
        """Physical size of a cell."""
        return self.length / self.length_cells

    @property
    def dt(self) -> float:
        """Physical duration of a step."""
        return self.dx * self.u_lattice / self.velocity

    @property
    def nu_physical(self) -> float:
        return self.velocity * self.length / self.re

    def pressure_scale(self, density: float = 1.0) -> float:
        """Physical pressure of a lattice pressure unit: ``rho (dx/dt)^2``."""
        return density * (self.dx / self.dt) ** 2

    def force_scale(self, density: float = 1.0, dim: int = 2) -> float:
        """Physical force of a lattice force unit: ``rho dx^4 / dt^2`` in 3-D, per unit depth
        (``rho dx^3 / dt^2`` over ``dx``) in 2-D."""
        return density * self.dx ** (dim + 1) / self.dt**2 / (self.dx if dim == 2 else 1.0)

    def steps(self, time: float) -> int:
        """Steps covering the physical ``time``."""
        return max(1, round(time / self.dt))

    def as_dict(self) -> dict[str, float]:
        return {
            **asdict(self),
            "nu": self.nu,
            "tau": self.tau,
            "mach": self.mach,
            "dx": self.dx,
            "dt": self.dt,
        }
