"""Ready-made flows: channel with a body (Schäfer–Turek cylinder, any shape), lid-driven cavity,
Poiseuille channel, Taylor–Green vortex, sphere in a 3-D duct.

Each builder returns a :class:`Case`: the solver plus its units, geometry and parameters, with
methods for the coefficients and the xarray Dataset of the current state.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from flowlearn.physics import geometry
from flowlearn.physics.body_files import CHANNEL_HEIGHT_M
from flowlearn.physics.lbm import forces, observables, output
from flowlearn.physics.lbm.boundaries import (
    Boundary,
    ConvectiveOutflow,
    MovingObstacle,
    MovingWall,
    NoSlipWall,
    Obstacle,
    Outflow,
    PressureOutlet,
    VelocityInlet,
)
from flowlearn.physics.lbm.collision import TRT, Collision
from flowlearn.physics.lbm.solver import Solver, make_solver
from flowlearn.physics.lbm.units import LatticeUnits

#: Schäfer & Turek (1996) benchmark geometry (metres).
ST_LENGTH, ST_HEIGHT = 2.2, CHANNEL_HEIGHT_M
ST_CENTER, ST_DIAMETER = (0.2, 0.2), 0.1


@dataclass
class Case:
    """A set-up flow. ``units`` map lattice to physical units; ``ref_length`` / ``ref_velocity``
    (physical) define the coefficients; ``attrs`` hold every parameter (saved with the data)."""

    name: str
    solver: Solver
    units: LatticeUnits
    ref_length: float
    ref_velocity: float
    shape: geometry.Shape | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def dx(self) -> float:
        return self.units.dx

    def coefficients(self) -> dict[str, float]:
        """Drag and lift coefficients ``C = 2 F / (rho U^2 L)`` of the obstacle (per unit depth
        in 2-D; over the frontal area ``pi L^2 / 4`` in 3-D)."""
        u_lat = self.ref_velocity / self.units.velocity * self.units.u_lattice
        length_cells = self.ref_length / self.units.dx
        return forces.coefficients(
            self.solver.force_on("obstacle"), u_lat, length_cells, self.solver.dim
        )

    def fields(self) -> tuple[np.ndarray, np.ndarray]:
        """Dimensionless 2-D state for learning: ``fields (3, ny, nx)`` = (u / U, v / U,
        (p - p_outlet) / (rho U^2)) with U the mean inlet velocity (0 in solid cells), and the
        solid ``mask (ny, nx)``."""
        rho, u = self.solver.macroscopic()
        u_ref = self.units.u_lattice
        mask = np.isnan(rho)
        out = np.stack([u[0] / u_ref, u[1] / u_ref, observables.pressure(rho) / u_ref**2])
        out[:, mask] = 0.0
        return out, mask

    def dataset(self):
        """The current state as an ``xarray.Dataset`` (see :func:`output.to_dataset`)."""
        return output.to_dataset(self.solver, self.units, name=self.name, attrs=self.attrs)

    def surface_pressure(
        self, point: tuple[float, float], normal: tuple[float, float], order: int = 2
    ) -> float:
        """Pressure on a wall point (physical), extrapolated from the fluid along the outward
        ``normal`` by the polynomial of degree ``order`` (2 is a good default) through
        ``order + 1`` samples one cell apart.

        Along a grid axis the samples are the cell centres nearest the wall (the first at
        0 < s <= 1 cell) interpolated across the axis with cubic weights, so no solid node
        enters and the surface value is third-order accurate. At a stagnation point the
        pressure curves strongly within a few cells: a linear extrapolation from 1 and 2 cells
        out reads the Schäfer–Turek dp 0.5 % low at 40 cells per diameter. Off-axis normals
        start one cell out and step outwards until the cubic stencils are all fluid.
        """
        rho, _ = self.solver.macroscopic()
        p = observables.pressure(rho)
        n = np.asarray(normal, dtype=float) / np.linalg.norm(normal)
        x0 = np.asarray(point, dtype=float) / self.dx
        aligned = np.flatnonzero(np.abs(n) > 1.0 - 1e-12)
        if aligned.size:
            c = x0[aligned[0]] - 0.5
            first = np.floor(c) + 1.0 - c if n[aligned[0]] > 0 else c - np.ceil(c) + 1.0
            shift = 1.0
        else:
            first, shift = 1.0, 0.5
        for start in first + shift * np.arange(8):
            s = start + np.arange(order + 1)
            values = [observables.interpolate(p, *(x0 + si * n)) for si in s]
            if np.all(np.isfinite(values)):
                return observables.extrapolate_to_wall(s, values) * self.units.pressure_scale()
        raise ValueError(
            f"no all-fluid interpolation stencil within {first + 7 * shift + order:.1f} cells "
            f"of the wall point {tuple(point)} along {tuple(n)}: refine the grid"
        )

    def pressure_drop(self) -> float:
        """Schäfer–Turek pressure difference between the cylinder's front and back points
        (0.15, 0.2) and (0.25, 0.2), physical units (reference 0.1175 at Re 20)."""
        front = self.surface_pressure((ST_CENTER[0] - ST_DIAMETER / 2, ST_CENTER[1]), (-1, 0))
        back = self.surface_pressure((ST_CENTER[0] + ST_DIAMETER / 2, ST_CENTER[1]), (1, 0))
        return front - back

    def pressure_at(self, x: float, y: float) -> float:
        """Physical pressure (Pa for rho = 1 kg/m^3) at physical point ``(x, y)`` (2-D)."""
        rho, _ = self.solver.macroscopic()
        p = observables.pressure(rho)
        return observables.bilinear(p, x / self.dx, y / self.dx) * self.units.pressure_scale()


def channel_with_shape(
    shape: geometry.Shape,
    *,
    re: float,
    ref_length: float,
    length: float = ST_LENGTH,
    height: float = ST_HEIGHT,
    u_max: float = 0.3,
    cells_per_length: int = 20,
    u_lattice: float = 0.05,
    interpolated: bool = True,
    collision: Collision | None = None,
    dtype: str = "float64",
    threads: int | None = None,
    outlet: str = "pressure",
) -> Case:
    """2-D channel ``length`` x ``height`` (physical) with a parabolic inlet of peak ``u_max``,
    a pressure outlet, no-slip walls and ``shape`` inside.

    ``re`` uses the mean inlet velocity ``2/3 u_max`` and ``ref_length`` (the body size).
    cells_per_length: cells across ``ref_length`` (20 gives Cd within ~1 % at Re 20 with
    Bouzidi walls); u_lattice: mean inlet velocity in cells/step (0.05: Ma 0.13 at the peak).
    """
    u_mean = 2.0 / 3.0 * u_max
    units = LatticeUnits(re, cells_per_length, u_lattice, length=ref_length, velocity=u_mean)
    dx = units.dx
    nx, ny = round(length / dx), round(height / dx)
    attrs = {
        "case": "channel",
        "shape": shape.name,
        "re": re,
        "u_max": u_max,
        "channel_length": length,
        "channel_height": height,
        "ref_length": ref_length,
        "interpolated_walls": interpolated,
        "outlet": outlet,
    }
    return _channel(shape, units, (nx, ny), attrs, interpolated, collision, dtype, threads, outlet)


OUTLETS = {"pressure": PressureOutlet, "convective": ConvectiveOutflow, "outflow": Outflow}


def _outlet(kind: str):
    """The east-side outlet: "pressure" (fixed density, the default), "convective" (waves leave,
    no pressure level) or "outflow" (zero gradient)."""
    if kind not in OUTLETS:
        raise ValueError(f"outlet {kind!r} unknown; choose one of {', '.join(OUTLETS)}")
    return OUTLETS[kind]("east")


def obstacle_channel(
    shape: geometry.Shape,
    grid: tuple[int, int],
    *,
    re: float,
    ref_length: float | None = None,
    u_lattice: float = 0.05,
    interpolated: bool = True,
    collision: Collision | None = None,
    dtype: str = "float32",
    threads: int | None = None,
) -> Case:
    """Channel of ``grid = (nx, ny)`` cells with ``shape`` given in cell units (the domain is
    ``[0, nx] x [0, ny]``): the set-up of flowlearn's surrogate datasets, one per sample.

    Parabolic inflow of mean ``u_lattice`` (cells/step), pressure outlet, no-slip walls.
    ``re = u_mean L / nu`` with ``L = ref_length`` cells, by default the body's largest extent
    (its bounding box's longer side: a cylinder's diameter, an airfoil's chord, a plate's
    height when it stands across the flow).
    """
    lo, hi = shape.bounds
    if ref_length is None:
        ref_length = float(np.max(np.asarray(hi) - np.asarray(lo)))
    units = LatticeUnits(re, ref_length, u_lattice, length=ref_length, velocity=u_lattice)
    attrs = {
        "case": "obstacle-channel",
        "shape": shape.name,
        "re": re,
        "ref_length": ref_length,
        "interpolated_walls": interpolated,
    }
    return _channel(shape, units, grid, attrs, interpolated, collision, dtype, threads)


def _channel(
    shape: geometry.Shape,
    units: LatticeUnits,
    grid: tuple[int, int],
    attrs: dict[str, Any],
    interpolated: bool,
    collision: Collision | None,
    dtype: str,
    threads: int | None,
    outlet: str = "pressure",
    extra: Sequence[Boundary] = (),
) -> Case:
    """Parabolic inlet (mean ``units.u_lattice``) west, pressure outlet east, no-slip walls
    south and north, ``shape`` (physical units, spacing ``units.dx``) inside; ``extra``
    boundaries after it (slots that take over some of its cells)."""
    dx = units.dx
    nx, ny = (int(n) for n in grid)
    if nx < 8 or ny < 8:
        raise ValueError(f"grid {nx} x {ny} is too small: use at least 8 x 8 cells")
    shape.check_inside((0.0, 0.0), (nx * dx, ny * dx), margin=dx)
    u_peak = 1.5 * units.u_lattice
    h = float(ny)

    def inlet(points: np.ndarray) -> np.ndarray:
        y = np.clip(points[:, 1], 0.0, h)
        ux = 4.0 * u_peak * y * (h - y) / h**2
        return np.stack([ux, np.zeros_like(ux)], axis=1)

    sdf = _lattice_sdf(shape, dx)
    solver = make_solver(
        (nx, ny),
        units.nu,
        collision=collision or TRT(),
        boundaries=[
            VelocityInlet("west", inlet),
            _outlet(outlet),
            NoSlipWall("south"),
            NoSlipWall("north"),
            Obstacle(sdf, interpolated=interpolated),
            *extra,
        ],
        dtype=dtype,
        threads=threads,
    )
    # Start from the inlet profile everywhere: the flow settles far sooner than from rest.
    yc = (np.arange(ny) + 0.5)[:, None] * np.ones((1, nx))
    u0 = np.stack([4.0 * u_peak * yc * (h - yc) / h**2, np.zeros_like(yc)])
    solver.initialise(1.0, u0)
    attrs = {**attrs, **units.as_dict()}
    return Case("channel", solver, units, units.length, units.velocity, shape, attrs)


def schafer_turek(
    re: float = 20.0, *, cells_per_diameter: int = 20, u_lattice: float = 0.05, **kwargs: Any
) -> Case:
    """Schäfer & Turek (1996) 2D-1 (Re 20, U_max 0.3) or 2D-2 (Re 100, U_max 1.5): cylinder
    D = 0.1 at (0.2, 0.2) in a 2.2 x 0.41 channel, parabolic inflow."""
    u_max = 1.5 * re / 100.0  # Re = U_mean D / nu with nu = 1e-3: U_mean = Re / 100
    case = channel_with_shape(
        geometry.circle(ST_CENTER, ST_DIAMETER / 2),
        re=re,
        ref_length=ST_DIAMETER,
        u_max=u_max,
        cells_per_length=cells_per_diameter,
        u_lattice=u_lattice,
        **kwargs,
    )
    case.name = "schafer-turek"
    case.attrs["case"] = "schafer-turek"
    return case


#: The jets of Rabault et al. (JFM 2019): slots at the top and the bottom of the cylinder.
JET_ANGLES = {"jet_top": 90.0, "jet_bottom": 270.0}


def schafer_turek_jets(
    re: float = 100.0,
    *,
    cells_per_diameter: int = 16,
    u_lattice: float = 0.05,
    jet_width: float = 10.0,
    dtype: str = "float64",
    threads: int | None = None,
) -> Case:
    """:func:`schafer_turek` (2D-2 at Re 100) with two slots in the cylinder's wall, ``jet_width``
    degrees wide at 90 and 270 degrees (Rabault, Kuchta, Jensen, Réglade & Cerardi, JFM 2019):
    :class:`MovingObstacle` s named ``jet_top`` and ``jet_bottom`` blowing radially with the
    profile ``cos(pi (theta - theta_j) / width)``, 0 at the slot's edges; on a grid too coarse
    for ``jet_width`` the slot is widened to 1.5 cells (``attrs["jet_width_degrees_effective"]``).
    Built at rest;
    ``case.attrs[f"{name}_mass_flux"]`` is the slot's mass per step at scale 1 (lattice units),
    so ``solver.scale_wall_velocity(name, q / flux)`` makes it inject ``q`` per step; the
    inflow's mass per step is ``attrs["inflow_mass_flux"]``. The drag of
    :meth:`Case.coefficients` is the force on the cylinder's other walls: the jets' own momentum
    (``solver.force_on(name)``) is apart."""
    if not 0 < jet_width < 90:
        raise ValueError(f"jet width {jet_width} degrees: choose between 0 and 90")
    u_max = 1.5 * re / 100.0
    units = LatticeUnits(re, cells_per_diameter, u_lattice, length=ST_DIAMETER,
                         velocity=2.0 / 3.0 * u_max)  # fmt: skip
    dx = units.dx
    centre = np.array(ST_CENTER) / dx
    radius = ST_DIAMETER / 2 / dx
    # a slot narrower than 1.5 cells would claim no cell of the wall: widen it to that
    half = max(np.deg2rad(jet_width) / 2, 0.75 / radius)

    def slot(theta_j: float) -> MovingObstacle:
        def angle(p: np.ndarray) -> np.ndarray:
            d = p - centre
            return np.angle(np.exp(1j * (np.arctan2(d[:, 1], d[:, 0]) - theta_j)))

        def sdf(p: np.ndarray) -> np.ndarray:
            inside = np.hypot(*(p - centre).T) - radius
            return np.where(np.abs(angle(p)) <= half, inside, np.maximum(inside, 1.0))

        def velocity(p: np.ndarray) -> np.ndarray:
            d = p - centre
            n = d / np.linalg.norm(d, axis=1, keepdims=True)
            profile = np.cos(np.pi / 2 * np.clip(angle(p) / half, -1, 1))
            return u_lattice * profile[:, None] * n

        return sdf, velocity

    jets = []
    for name, deg in JET_ANGLES.items():
        sdf, vel = slot(np.deg2rad(deg))
        jets.append(MovingObstacle(sdf, vel, name=name))
    shape = geometry.circle(ST_CENTER, ST_DIAMETER / 2)
    nx, ny = round(ST_LENGTH / dx), round(ST_HEIGHT / dx)
    attrs = {"case": "schafer-turek-jets", "shape": shape.name, "re": re, "u_max": u_max,
             "channel_length": ST_LENGTH, "channel_height": ST_HEIGHT,
             "ref_length": ST_DIAMETER, "interpolated_walls": True, "outlet": "pressure",
             "jet_width_degrees": jet_width,
             "jet_width_degrees_effective": float(np.rad2deg(2 * half))}  # fmt: skip
    case = _channel(shape, units, (nx, ny), attrs, True, None, dtype, threads, "pressure", jets)
    for name in JET_ANGLES:
        if not (case.solver.link_names.count(name)):
            raise ValueError(
                f"the {name} slot covers no wall link at {cells_per_diameter} cells per "
                f"diameter: widen it (jet_width {jet_width}) or refine the grid"
            )
        case.attrs[f"{name}_mass_flux"] = case.solver.wall_mass_flux(name)
        case.solver.scale_wall_velocity(name, 0.0)
    case.attrs["inflow_mass_flux"] = u_lattice * ny  # mean velocity x height, rho 1
    case.name = "schafer-turek-jets"
    return case


def cylinder(re: float = 20.0, **kwargs: Any) -> Case:
    """Alias of :func:`schafer_turek`: the cylinder channel benchmark."""
    return schafer_turek(re, **kwargs)


def cylinder_wake(
    re: float = 100.0,
    *,
    cells_per_diameter: int = 16,
    u_lattice: float = 0.05,
    width: float = 24.0,
    length: float = 30.0,
    upstream: float = 8.0,
    collision: Collision | None = None,
    dtype: str = "float32",
    threads: int | None = None,
) -> Case:
    """A cylinder of diameter 1 in a wide channel (``width`` x ``length`` diameters, its
    centre ``upstream`` diameters behind the inlet and mid-height): a uniform inflow,
    a convective outflow, periodic sides. Blockage ``1 / width`` (24: 4.2 %), so the wake is
    close to the unconfined one (a row of cylinders ``width`` apart). Re = U D / nu; lengths
    in diameters. Starts from the uniform flow."""
    units = LatticeUnits(re, cells_per_diameter, u_lattice)
    dx = units.dx
    nx, ny = round(length / dx), round(width / dx)
    body = geometry.circle((upstream, width / 2), 0.5)
    body.check_inside((0.0, 0.0), (nx * dx, ny * dx), margin=dx)
    solver = make_solver(
        (nx, ny),
        units.nu,
        collision=collision or TRT(),
        boundaries=[
            VelocityInlet("west", (u_lattice, 0.0)),
            ConvectiveOutflow("east"),
            Obstacle(_lattice_sdf(body, dx)),
        ],
        periodic=(False, True),
        dtype=dtype,
        threads=threads,
    )
    u0 = np.zeros((2, ny, nx))
    u0[0] = u_lattice
    solver.initialise(1.0, u0)
    attrs = {
        "case": "cylinder-wake",
        "re": re,
        "channel_width": width,
        "channel_length": length,
        "upstream": upstream,
        **units.as_dict(),
    }
    return Case("cylinder-wake", solver, units, 1.0, 1.0, body, attrs)


def _lattice_sdf(shape: geometry.Shape, dx: float):
    def sdf(points: np.ndarray) -> np.ndarray:
        return shape.sdf(points * dx) / dx

    return sdf


def cavity(
    re: float = 100.0,
    *,
    n: int = 64,
    u_lid: float = 0.05,
    collision: Collision | None = None,
    dtype: str = "float64",
    threads: int | None = None,
) -> Case:
    """Lid-driven square cavity of ``n`` x ``n`` cells, lid speed ``u_lid`` (cells/step) on the
    north side; Re = u_lid n / nu. n = 64-128 matches Ghia et al. at Re 100 to ~1 %."""
    units = LatticeUnits(re, n, u_lid)
    solver = make_solver(
        (n, n),
        units.nu,
        collision=collision or TRT(),
        boundaries=[
            NoSlipWall("west"),
            NoSlipWall("east"),
            NoSlipWall("south"),
            MovingWall("north", (u_lid, 0.0)),
        ],
        dtype=dtype,
        threads=threads,
    )
    return Case("cavity", solver, units, 1.0, 1.0, None, {"case": "cavity", **units.as_dict()})


def poiseuille(
    height: int = 16,
    *,
    nu: float = 0.1,
    u_max: float = 0.01,
    collision: Collision | None = None,
    walls: str = "bounce-back",
    offset: float = 0.0,
    dtype: str = "float64",
    threads: int | None = None,
) -> tuple[Solver, Callable[[np.ndarray], np.ndarray]]:
    """Force-driven channel flow between two walls, periodic along x.

    walls: "bounce-back" puts the walls on the faces of a ``height``-cell channel;
    "bouzidi" makes them an SDF (two planes) shifted by ``offset`` cells into the fluid, so
    the channel is ``height - 2 offset`` wide and the walls cut the links off-grid.
    Returns the solver and ``analytic(y) -> u`` (lattice units, ``y`` in cells).
    """
    h_eff = height - 2.0 * offset
    force = 8.0 * nu * u_max / h_eff**2
    boundaries: list = []
    grid = (4, height)
    if walls == "bouzidi":
        # Solid rows beyond the shifted planes: one extra cell on each side carries the SDF.
        grid = (4, height + 2)
        lo, hi = 1.0 + offset, 1.0 + height - offset

        def sdf(p: np.ndarray) -> np.ndarray:
            return np.minimum(p[:, 1] - lo, hi - p[:, 1])

        boundaries = [Obstacle(sdf, interpolated=True, touch_edges=True)]
        shift = lo
    elif walls == "bounce-back":
        shift = 0.0
    else:
        raise ValueError(f"walls {walls!r} is not supported; choose 'bounce-back' or 'bouzidi'")
    solver = make_solver(
        grid,
        nu,
        collision=collision or TRT(),
        boundaries=boundaries,
        periodic=(True, False),
        force=(force, 0.0),
        dtype=dtype,
        threads=threads,
    )

    def analytic(y: np.ndarray) -> np.ndarray:
        s = np.asarray(y) - shift
        return np.where((s >= 0) & (s <= h_eff), force / (2 * nu) * s * (h_eff - s), np.nan)

    return solver, analytic


def taylor_green(
    n: int = 32,
    *,
    re: float = 100.0,
    u0: float = 0.03,
    collision: Collision | None = None,
    dtype: str = "float64",
    threads: int | None = None,
) -> tuple[Solver, float]:
    """Decaying Taylor–Green vortex on a periodic ``n`` x ``n`` box; Re = u0 n / nu.

    Returns the solver (initialised) and the analytic decay rate of the kinetic energy,
    ``2 nu (kx^2 + ky^2)`` per step, with ``k = 2 pi / n``.
    """
    nu = u0 * n / re
    solver = make_solver(
        (n, n),
        nu,
        collision=collision or TRT(),
        periodic=(True, True),
        dtype=dtype,
        threads=threads,
    )
    k = 2 * math.pi / n
    x = (np.arange(n) + 0.5)[None, :]
    y = (np.arange(n) + 0.5)[:, None]
    u = -u0 * np.cos(k * x) * np.sin(k * y)
    v = u0 * np.sin(k * x) * np.cos(k * y)
    p = -0.25 * u0**2 * (np.cos(2 * k * x) + np.cos(2 * k * y))
    solver.initialise(1.0 + 3.0 * p, np.stack([u, v]))
    return solver, 2.0 * nu * 2 * k**2


def sphere_channel(
    re: float = 20.0,
    *,
    diameter_cells: int = 8,
    u_lattice: float = 0.05,
    length: float = 12.0,
    width: float = 6.0,
    upstream: float = 4.0,
    periodic_sides: bool = True,
    collision: Collision | None = None,
    dtype: str = "float32",
    threads: int | None = None,
) -> Case:
    """Sphere of diameter 1, ``upstream`` diameters behind a uniform inflow, in a ``length`` x
    ``width`` x ``width`` box (diameters) with a pressure outlet; D3Q19.

    periodic_sides: periodic side boundaries (an array of spheres ``width`` apart, the closest
    to free stream a box allows) or no-slip duct walls. Re = U D / nu. At Re 20 the defaults
    (8 cells per diameter, 96 x 48 x 48 cells) give Cd 2.85, within 10 % of the
    Schiller–Naumann correlation 2.61 (itself +-5 %); a velocity inlet 1.5 diameters upstream
    in a 3-diameter duct raises it to 3.3 (confinement), no-slip duct walls to 6.
    """
    units = LatticeUnits(re, diameter_cells, u_lattice)
    dx = units.dx
    nx, ny, nz = round(length / dx), round(width / dx), round(width / dx)
    body = geometry.sphere((upstream, width / 2, width / 2), 0.5)
    body.check_inside((0, 0, 0), (nx * dx, ny * dx, nz * dx), margin=dx)
    solver = make_solver(
        (nx, ny, nz),
        units.nu,
        collision=collision or TRT(),
        boundaries=[
            VelocityInlet("west", (u_lattice, 0.0, 0.0)),
            PressureOutlet("east"),
            Obstacle(_lattice_sdf(body, dx)),
        ],
        periodic=(False, periodic_sides, periodic_sides),
        dtype=dtype,
        threads=threads,
    )
    u0 = np.zeros((3, ny, nx, nz))
    u0[0] = u_lattice
    solver.initialise(1.0, u0)
    attrs = {"case": "sphere", "re": re, **units.as_dict()}
    return Case("sphere", solver, units, 1.0, 1.0, body, attrs)


def shape_from_mask(
    mask: np.ndarray,
    *,
    re: float,
    length: float = ST_LENGTH,
    height: float = ST_HEIGHT,
    **kwargs: Any,
) -> Case:
    """Channel flow past a body given as a solid ``mask`` ``(ny, nx)`` covering the channel:
    its SDF comes from :func:`geometry.mask_to_sdf`; the reference length is the body's
    height."""
    m = np.asarray(mask, dtype=bool)
    geometry.check_mask(m)
    dx = height / m.shape[0]
    shape = geometry.mask_shape(m, dx)
    rows = np.flatnonzero(m.any(axis=1))
    ref = (rows.max() - rows.min() + 1) * dx
    kwargs.setdefault("cells_per_length", max(4, round(ref / dx)))
    return channel_with_shape(shape, re=re, ref_length=ref, length=length, height=height, **kwargs)
