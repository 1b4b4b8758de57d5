"""Collision operators: the relaxation rates handed to the generated stream-collide kernel.

Lattice units throughout: ``nu`` is the kinematic viscosity in cells^2 / step,
``tau = 3 nu + 1/2`` the relaxation time.
"""

from __future__ import annotations

from dataclasses import dataclass

#: tau below this is refused: the scheme loses stability and accuracy as tau -> 1/2.
TAU_MIN = 0.502


def tau_from_nu(nu: float) -> float:
    """Relaxation time for lattice viscosity ``nu`` (cells^2/step): ``tau = 3 nu + 0.5``."""
    return 3.0 * nu + 0.5


def nu_from_tau(tau: float) -> float:
    return (tau - 0.5) / 3.0


def check_tau(tau: float, tau_min: float = TAU_MIN) -> None:
    if not tau > tau_min:
        raise ValueError(
            f"relaxation time tau {tau:.5g} is below {tau_min:g} (tau must exceed 0.5): raise the "
            "viscosity, lower the Reynolds number, or refine the grid / raise the lattice velocity"
        )


@dataclass(frozen=True)
class BGK:
    """Single relaxation time (BGK). Stable for ``tau`` 0.55-1.0 at moderate Mach.

    Bounce-back walls sit at a tau-dependent distance from the half-way point (error
    ~ (tau - 1/2)^2 dx^2), so prefer :class:`TRT` for validation work.
    """

    name: str = "bgk"

    def rates(self, nu: float) -> dict[str, float]:
        tau = tau_from_nu(nu)
        check_tau(tau)
        return {"omega_even": 1.0 / tau, "omega_odd": 1.0 / tau}


@dataclass(frozen=True)
class TRT:
    """Two relaxation times: even moments relax with ``1/tau`` (viscosity), odd ones with a rate
    set by the magic parameter ``Lambda = (tau_even - 1/2)(tau_odd - 1/2)``.

    ``magic = 3/16`` puts half-way bounce-back walls exactly midway for any viscosity (exact
    Poiseuille flow); ``1/4`` gives the best stability. 3/16 is the default.
    """

    magic: float = 3.0 / 16.0
    name: str = "trt"

    def rates(self, nu: float) -> dict[str, float]:
        tau = tau_from_nu(nu)
        check_tau(tau)
        tau_odd = self.magic / (tau - 0.5) + 0.5
        return {"omega_even": 1.0 / tau, "omega_odd": 1.0 / tau_odd}


Collision = BGK | TRT


def collision_from_name(name: str) -> Collision:
    """``"trt"`` or ``"bgk"`` -> the operator with its default parameters."""
    key = name.lower()
    if key == "trt":
        return TRT()
    if key in ("bgk", "srt"):
        return BGK()
    raise ValueError(f"collision {name!r} is not supported; choose 'trt' or 'bgk'")
