"""Moving obstacles (blowing and sucking slots in a body): the mass their walls inject is the
one :meth:`Solver.wall_mass_flux` states, scales with :meth:`Solver.scale_wall_velocity`, and
two opposite slots conserve the mass of a closed box."""

from __future__ import annotations

import numpy as np
import pytest

from flowlearn.physics.lbm import MovingObstacle, Obstacle, make_solver

CENTRE, RADIUS = np.array([24.0, 20.0]), 6.0


def _circle(p: np.ndarray) -> np.ndarray:
    return np.hypot(p[:, 0] - CENTRE[0], p[:, 1] - CENTRE[1]) - RADIUS


def _slot(sign: float):
    """The circle's cells within 30 degrees of straight up (sign 1) or down (-1)."""

    def sdf(p: np.ndarray) -> np.ndarray:
        d = p - CENTRE
        angle = np.arctan2(d[:, 1], d[:, 0]) - sign * np.pi / 2
        within = np.abs(np.angle(np.exp(1j * angle))) <= np.pi / 6
        return np.where(within, _circle(p), 1.0)

    def velocity(p: np.ndarray) -> np.ndarray:  # radially outward, 0.01 cells per step
        d = p - CENTRE
        return 0.01 * d / np.linalg.norm(d, axis=1, keepdims=True)

    return sdf, velocity


def _box(*slots: tuple[str, float]):
    """A closed 48 x 40 box (resting walls on every side), the circle with its slots."""
    bounds = [Obstacle(_circle)]
    for name, sign in slots:
        sdf, vel = _slot(sign)
        bounds.append(MovingObstacle(sdf, vel, name=name))
    return make_solver((48, 40), 0.05, boundaries=bounds)


def _mass(solver) -> float:
    rho, _ = solver.macroscopic()
    return float(np.nansum(rho))


def test_a_blowing_slot_injects_the_mass_it_states():
    s = _box(("top", 1.0))
    flux = s.wall_mass_flux("top")
    assert flux > 0  # radially outward from a body: blowing
    m0 = _mass(s)
    s.step(200)
    assert _mass(s) - m0 == pytest.approx(200 * flux, rel=0.01)

    s.scale_wall_velocity("top", -0.5)  # now sucking at half the speed
    m1 = _mass(s)
    s.step(200)
    assert _mass(s) - m1 == pytest.approx(-0.5 * 200 * flux, rel=0.01)


def test_opposite_slots_conserve_the_box_mass_and_stopped_slots_are_walls():
    s = _box(("top", 1.0), ("bottom", -1.0))
    top, bottom = s.wall_mass_flux("top"), s.wall_mass_flux("bottom")
    assert top == pytest.approx(bottom, rel=1e-9)  # the grid is symmetric about y = 20
    s.scale_wall_velocity("bottom", -1.0)  # bottom sucks what top blows
    m0 = _mass(s)
    s.step(300)
    assert abs(_mass(s) - m0) < 1e-3 * 300 * top
    _, u = s.macroscopic()
    assert np.nanmax(np.abs(u)) > 0.003  # the slots drive a flow

    still = _box(("top", 1.0))
    still.scale_wall_velocity("top", 0.0)
    still.step(100)
    _, u = still.macroscopic()
    assert np.nanmax(np.abs(u)) < 1e-12  # a slot at rest is a wall: nothing moves


def test_bad_slot_use_is_refused():
    s = _box(("top", 1.0))
    with pytest.raises(KeyError, match="no moving obstacle named 'jet'"):
        s.scale_wall_velocity("jet", 1.0)
    with pytest.raises(ValueError, match="not finite"):
        s.scale_wall_velocity("top", float("nan"))
