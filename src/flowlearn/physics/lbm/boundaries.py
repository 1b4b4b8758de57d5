"""Boundary conditions: which cells they occupy and the links they act on.

A boundary claims cells of the ghost-padded grid (a side of the box, or the solid cells of an
obstacle). Every link from a fluid cell into a claimed cell is handled by an lbmpy-generated
kernel that writes the population the fluid cell pulls at the next step; building the link
lists is O(boundary) NumPy work done once.

Coordinates are lattice units with cell centres at ``i + 0.5`` (interior cell ``i`` = 0..n-1),
so a box of ``n`` cells spans ``[0, n]`` and half-way bounce-back walls sit exactly on its faces.
Fields in the public API are indexed ``[y, x]`` (2-D) or ``[y, x, z]`` (3-D).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

SIDES = {
    "west": (0, -1),
    "east": (0, 1),
    "south": (1, -1),
    "north": (1, 1),
    "bottom": (2, -1),
    "top": (2, 1),
}


def _check_side(side: str, dim: int) -> tuple[int, int]:
    if side not in SIDES or SIDES[side][0] >= dim:
        valid = [s for s, (a, _) in SIDES.items() if a < dim]
        raise ValueError(f"side {side!r} is not a side of a {dim}-D box; choose from {valid}")
    return SIDES[side]


@dataclass(frozen=True)
class NoSlipWall:
    """Resting wall on a side of the box (half-way bounce-back, second order with TRT 3/16)."""

    side: str
    kind: str = field(default="noslip", init=False)


@dataclass(frozen=True)
class MovingWall:
    """Wall moving tangentially with ``velocity`` (lattice units, |u| < 0.1 keeps Ma < 0.17),
    e.g. the lid of a cavity. Implemented as velocity bounce-back (lbmpy ``UBB``)."""

    side: str
    velocity: tuple[float, ...]
    kind: str = field(default="ubb", init=False)


@dataclass(frozen=True)
class VelocityInlet:
    """Prescribed velocity on a side: ``velocity`` is a constant vector or a callable
    ``f(points) -> (N, D)`` of wall-point coordinates ``(N, D)`` (lattice units, x first)."""

    side: str
    velocity: tuple[float, ...] | Callable[[np.ndarray], np.ndarray]
    kind: str = field(default="ubb", init=False)


@dataclass(frozen=True)
class PressureOutlet:
    """Fixed density ``rho = 1`` (pressure ``p = 1/3`` lattice units) on a side (lbmpy
    ``FixedDensity``, anti-bounce-back)."""

    side: str
    kind: str = field(default="density", init=False)


@dataclass(frozen=True)
class Outflow:
    """Zero-gradient outflow: missing populations are copied from the neighbour cell inside.

    It fixes no pressure level, so the mean density can drift in long runs; prefer
    :class:`PressureOutlet` unless waves must leave the domain freely.
    """

    side: str

    @property
    def kind(self) -> str:
        axis, sign = SIDES[self.side]
        return f"outflow{'+' if sign > 0 else '-'}{'xyz'[axis]}"


@dataclass(frozen=True)
class ConvectiveOutflow:
    """Outflow that lets waves leave: the missing populations are interpolated in time and space
    from the neighbour cell inside at the lattice sound speed (Geier et al. 2015, eq. F.2; lbmpy
    ``ExtrapolationOutflow``). Like :class:`Outflow` it fixes no pressure level."""

    side: str

    @property
    def kind(self) -> str:
        axis, sign = SIDES[self.side]
        return f"convective{'+' if sign > 0 else '-'}{'xyz'[axis]}"


@dataclass(frozen=True)
class Obstacle:
    """A solid body given by a signed distance function (negative inside), lattice units.

    ``sdf``: array ``(ny, nx)`` / ``(ny, nx, nz)`` of the SDF at cell centres, or a callable
    ``f(points (N, D), x first) -> (N,)``. ``interpolated=True`` uses Bouzidi's linear
    interpolated bounce-back with the wall distance ``q`` of each link found on the SDF
    (bisection on a callable, linear interpolation on an array); ``False`` uses simple
    half-way bounce-back (staircase wall). ``touch_edges=True`` allows solid cells on the
    domain's edge (bodies that are really walls, e.g. an off-grid channel wall).
    """

    sdf: np.ndarray | Callable[[np.ndarray], np.ndarray]
    interpolated: bool = True
    name: str = "obstacle"
    touch_edges: bool = False

    @property
    def kind(self) -> str:
        return "bouzidi" if self.interpolated else "noslip"


@dataclass(frozen=True)
class MovingObstacle:
    """Solid cells whose walls move: the cells where ``sdf`` (lattice units, negative inside)
    is negative, with the wall velocity ``velocity(points (N, D)) -> (N, D)`` at each link's
    half-way wall point (velocity bounce-back, lbmpy ``UBB``; staircase walls). Listed after an
    :class:`Obstacle`, it takes over the cells they share: a blowing or sucking slot in a body
    (the jets of :func:`flowlearn.physics.lbm.cases.schafer_turek_jets`). The velocities can be
    scaled between steps (:meth:`Solver.scale_wall_velocity`)."""

    sdf: Callable[[np.ndarray], np.ndarray]
    velocity: Callable[[np.ndarray], np.ndarray]
    name: str = "moving"
    kind: str = field(default="ubb", init=False)
    touch_edges: bool = False


Boundary = (
    NoSlipWall
    | MovingWall
    | VelocityInlet
    | PressureOutlet
    | Outflow
    | ConvectiveOutflow
    | Obstacle
    | MovingObstacle
)


def to_internal(a: np.ndarray) -> np.ndarray:
    """Public ``[y, x(, z)]`` -> internal ``[x, y(, z)]`` (a view)."""
    return np.swapaxes(a, 0, 1)


def to_public(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, 0, 1)


def cell_centres(shape: tuple[int, ...]) -> np.ndarray:
    """Lattice coordinates of all cells of the ghost-padded grid, shape ``(*padded, D)``."""
    axes = [np.arange(n + 2) - 0.5 for n in shape]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)


def side_cells(shape: tuple[int, ...], side: str) -> np.ndarray:
    """Boolean mask of the padded grid: the ghost layer on ``side``."""
    axis, sign = _check_side(side, len(shape))
    mask = np.zeros(tuple(n + 2 for n in shape), dtype=bool)
    index = [slice(None)] * len(shape)
    index[axis] = -1 if sign > 0 else 0
    mask[tuple(index)] = True
    return mask


def sdf_on_grid(obstacle: Obstacle | MovingObstacle, shape: tuple[int, ...]) -> np.ndarray:
    """The obstacle's SDF on the padded grid (internal x-first order); ghost cells are +inf."""
    padded = tuple(n + 2 for n in shape)
    out = np.full(padded, np.inf)
    inner = tuple(slice(1, -1) for _ in shape)
    if callable(obstacle.sdf):
        pts = cell_centres(shape)[inner].reshape(-1, len(shape))
        out[inner] = np.asarray(obstacle.sdf(pts), dtype=float).reshape(shape)
    else:
        arr = to_internal(np.asarray(obstacle.sdf, dtype=float))
        if arr.shape != tuple(shape):
            raise ValueError(
                f"obstacle SDF has shape {to_public(arr).shape} but the grid is "
                f"{to_public(np.empty(shape)).shape} (ny, nx[, nz])"
            )
        out[inner] = arr
    return out


def wall_distance(
    obstacle: Obstacle,
    sdf_grid: np.ndarray,
    cells: np.ndarray,
    c: np.ndarray,
) -> np.ndarray:
    """Fraction ``q`` in (0, 1] of each link from fluid cell ``cells`` (N, D, padded indices)
    along ``c`` (N, D) where the SDF crosses zero."""
    phi_f = sdf_grid[tuple(cells.T)]
    phi_s = sdf_grid[tuple((cells + c).T)]
    # Linear interpolation of the SDF: exact for planes, O(dx^2) otherwise.
    q = phi_f / np.maximum(phi_f - phi_s, 1e-12)
    if callable(obstacle.sdf):
        # Bisection on the exact SDF along the link gives the true crossing.
        x0 = cells - 0.5
        lo, hi = np.zeros(len(q)), np.ones(len(q))
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            phi = np.asarray(obstacle.sdf(x0 + mid[:, None] * c), dtype=float)
            inside = phi <= 0
            hi = np.where(inside, mid, hi)
            lo = np.where(inside, lo, mid)
        q = 0.5 * (lo + hi)
    return np.clip(q, 1e-6, 1.0)
