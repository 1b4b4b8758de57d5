"""The lattice Boltzmann solver: a factory that assembles a step function from swappable parts.

``make_solver(grid, nu, collision=TRT(), boundaries=[...])`` returns a :class:`Solver`; each
``solver.step(n)`` runs ``n`` times: periodic ghost copies, boundary kernels on the links,
then the lbmpy-generated stream-collide kernel (pull scheme, two arrays). The same object
serves data generation, validation and benchmarks.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from flowlearn.physics.lbm import _kernels
from flowlearn.physics.lbm.boundaries import (
    Boundary,
    MovingObstacle,
    MovingWall,
    NoSlipWall,
    Obstacle,
    VelocityInlet,
    _check_side,
    sdf_on_grid,
    side_cells,
    to_public,
    wall_distance,
)
from flowlearn.physics.lbm.collision import TRT, Collision
from flowlearn.safety.memory import require_memory

#: fewest interior cells along an axis that the solver accepts.
MIN_CELLS = 4
#: Bytes per padded cell and population beside the two PDF arrays at the peak of set-up
#: (float64 equilibrium and macroscopic fields, flags, masks, the body's SDF), plus a fixed
#: part for the SDF's chunked evaluation. Measured with tracemalloc on cavities and obstacle
#: channels (D2Q9, 256x128 to 512x256: 395-488 bytes per cell) and a sphere (D3Q19: 793);
#: tests/physics/test_lbm_memory.py keeps the estimate above the measured peak, and within
#: 1.4 times it plus the fixed part.
_SETUP_BYTES_PER_POPULATION = 36
_SETUP_BYTES_PER_CELL = 64
SETUP_FIXED_BYTES = 24 * 1024**2


def solver_memory(grid: Sequence[int], stencil: str | None = None, dtype: str = "float64") -> int:
    """Peak bytes of building a :class:`Solver` on ``grid`` (interior cells): the two PDF
    arrays plus the set-up's temporaries; a run then holds about half of it."""
    grid = tuple(int(n) for n in grid)
    q = _kernels.lattice(stencil or ("D2Q9" if len(grid) == 2 else "D3Q19")).q
    cells = math.prod(n + 2 for n in grid)
    itemsize = np.dtype(dtype).itemsize
    per_cell = 2 * q * itemsize + _SETUP_BYTES_PER_POPULATION * q + _SETUP_BYTES_PER_CELL
    return cells * per_cell + SETUP_FIXED_BYTES


class DivergenceError(FloatingPointError):
    """The run produced NaN/inf or a runaway velocity; says at which step and the last residual."""

    def __init__(self, step: int, residual: float, detail: str) -> None:
        self.step = step
        self.residual = residual
        super().__init__(
            f"simulation diverged at step {step} ({detail}); last residual {residual:.3g}: lower "
            "the lattice velocity (Mach), raise tau (viscosity) or refine the grid"
        )


@dataclass
class _LinkSet:
    name: str
    kind: str
    kernel: Callable
    index: np.ndarray
    cells: np.ndarray  # (N, D) padded indices of the fluid cells
    dirs: np.ndarray  # (N,) directions fluid -> boundary


@dataclass
class RunReport:
    """What :meth:`Solver.run` saw: steps done, whether steady, residual history."""

    steps: int
    steady: bool
    residual: float
    wall_time_s: float
    residuals: list[tuple[int, float]] = field(default_factory=list)


class Solver:
    """State and step function of one lattice. Build it with :func:`make_solver`.

    Attributes: ``grid`` (nx, ny[, nz]) interior cells; ``nu`` lattice viscosity; ``time``
    steps done; ``src`` the PDF array ``(nx+2, ny+2[, nz+2], Q)`` holding ``f - w``.
    """

    def __init__(
        self,
        grid: tuple[int, ...],
        nu: float,
        collision: Collision,
        boundaries: Sequence[Boundary],
        periodic: tuple[bool, ...],
        dtype: str,
        stencil: str,
        force: tuple[float, ...] | None,
        threads: int,
        compressible: bool = False,
    ) -> None:
        self.grid = tuple(int(n) for n in grid)
        self.dim = len(self.grid)
        self.lattice = _kernels.lattice(stencil)
        if self.lattice.dim != self.dim:
            raise ValueError(
                f"stencil {stencil} is {self.lattice.dim}-D "
                f"but the grid {self.grid} is {self.dim}-D"
            )
        for n in self.grid:
            if n < MIN_CELLS:
                raise ValueError(
                    f"grid {self.grid} has an axis of {n} cells, fewer than {MIN_CELLS}: refine it"
                )
        if len(periodic) != self.dim:
            raise ValueError(f"periodic needs one flag per axis ({self.dim}), got {periodic}")
        self.nu = float(nu)
        self.collision = collision
        self.rates = collision.rates(self.nu)
        self.boundaries = list(boundaries)
        self.periodic = tuple(bool(p) for p in periodic)
        self.dtype = dtype
        self.stencil = stencil
        self.force = tuple(float(f) for f in force) if force is not None else None
        self.threads = threads
        self.compressible = bool(compressible)
        forced = self.force is not None
        self._kernel = _kernels.stream_collide(
            stencil, collision.name, dtype, threads, forced, self.compressible
        )
        self._params = dict(self.rates)
        if forced:
            if len(self.force) != self.dim:
                raise ValueError(f"force needs {self.dim} components, got {self.force}")
            self._params.update({f"force_{i}": f for i, f in enumerate(self.force)})
        self.src = _kernels.empty_pdfs(self.grid, self.lattice.q, dtype)
        self.dst = _kernels.empty_pdfs(self.grid, self.lattice.q, dtype)
        self.time = 0
        self._build_flags()
        self._build_links()
        self.initialise()

    # ----------------------------------------------------------------- geometry and links
    def _build_flags(self) -> None:
        padded = tuple(n + 2 for n in self.grid)
        # 0 fluid, -1 periodic ghost, k >= 1: boundary k - 1 of self._claims
        flags = np.zeros(padded, dtype=np.int32)
        ghost = np.ones(padded, dtype=bool)
        ghost[tuple(slice(1, -1) for _ in self.grid)] = False
        claims: list[tuple[Boundary, np.ndarray]] = []
        # Named "default": its links (and force, via force_on("default")) are the unnamed walls.
        default_wall = NoSlipWall("default")
        self._sdf = None
        for b in self.boundaries:
            if isinstance(b, Obstacle | MovingObstacle):
                sdf = self._wrap(sdf_on_grid(b, self.grid))
                mask = sdf <= 0
                if not mask.any():
                    raise ValueError(
                        f"obstacle {b.name!r} covers no cell centre: enlarge it or refine the grid"
                    )
                core = tuple(slice(1, -1) if p else slice(2, -2) for p in self.periodic)
                touching = mask[core].sum() != mask[tuple(slice(1, -1) for _ in self.grid)].sum()
                if touching and not b.touch_edges:
                    raise ValueError(
                        f"obstacle {b.name!r} touches the domain edge: leave at least one fluid "
                        "cell between the body and every side"
                    )
                self._sdf = sdf if self._sdf is None else np.minimum(self._sdf, sdf)
            else:
                axis, _ = _check_side(b.side, self.dim)
                if self.periodic[axis]:
                    raise ValueError(
                        f"boundary on side {b.side!r} conflicts with periodicity along axis {axis}"
                    )
                mask = side_cells(self.grid, b.side)
            claims.append((b, mask))
        # Later boundaries win shared cells (corners): cases list walls last.
        for k, (_, mask) in enumerate(claims, start=1):
            flags[mask] = k
        # Ghost cells on a non-periodic axis that nobody claimed are resting walls; this
        # includes the corners shared with a periodic axis, so wall links there bounce back.
        unclaimed = np.zeros(padded, dtype=bool)
        for axis, p in enumerate(self.periodic):
            if not p:
                index = [slice(None)] * self.dim
                for edge in (0, -1):
                    index[axis] = edge
                    unclaimed[tuple(index)] = True
        unclaimed &= flags == 0
        if unclaimed.any():
            claims.append((default_wall, unclaimed))
            flags[unclaimed] = len(claims)
        flags[ghost & (flags == 0)] = -1  # periodic images, refreshed every step
        self.flags = flags
        self._claims = claims
        self.solid = flags > 0
        self.fluid = flags == 0
        self.fluid[ghost] = False
        n_fluid = int(self.fluid.sum())
        if n_fluid == 0:
            raise ValueError("the domain has no fluid cell: the obstacle fills it")

    @property
    def sdf(self) -> np.ndarray | None:
        """The bodies' signed distance on the padded grid (x first, cells), None without one."""
        return self._sdf

    @property
    def link_sets(self) -> tuple:
        """Each boundary's links: ``name``, ``kind`` (lbmpy's boundary kind), ``index`` (the
        kernel's index array: cells, direction and per-link data such as a convective outlet's
        last values), ``cells`` and ``dirs``. Read-only by convention: the state module saves
        and restores the per-link data."""
        return tuple(self._links)

    @property
    def link_names(self) -> tuple[str, ...]:
        """The names of the boundaries with links to the fluid (``"obstacle"``, walls, ...)."""
        return tuple(s.name for s in self._links)

    def _wrap(self, a: np.ndarray) -> np.ndarray:
        """Fill the ghost layers of periodic axes with their periodic images, so a body that
        crosses a periodic side gets its links there too."""
        for axis, p in enumerate(self.periodic):
            if p:
                a = np.moveaxis(a, axis, 0)
                a[0], a[-1] = a[-2], a[1]
                a = np.moveaxis(a, 0, axis)
        return a

    def _build_links(self) -> None:
        lat = self.lattice
        fluid_idx = np.argwhere(self.fluid)
        self._links: list[_LinkSet] = []
        self._wall_velocity: dict[str, np.ndarray] = {}  # moving obstacles' velocities at scale 1
        per_claim: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        for d in range(1, lat.q):
            nb = fluid_idx + lat.c[d]
            k = self.flags[tuple(nb.T)]
            hit = k > 0
            for kk in np.unique(k[hit]):
                sel = k == kk
                per_claim.setdefault(int(kk), []).append(
                    (fluid_idx[sel], np.full(int(sel.sum()), d, dtype=np.int64))
                )
        for kk, parts in sorted(per_claim.items()):
            b, _ = self._claims[kk - 1]
            cells = np.concatenate([p[0] for p in parts])
            dirs = np.concatenate([p[1] for p in parts])
            kernel, index_dtype = _kernels.boundary_kernel(
                self.stencil, self.dtype, b.kind, self.compressible
            )
            index = np.zeros(len(cells), dtype=index_dtype)
            for a, name in enumerate("xyz"[: self.dim]):
                index[name] = cells[:, a]
            index["dir"] = dirs
            c = lat.c[dirs]
            if b.kind == "bouzidi":
                q = wall_distance(b, self._sdf_of(b), cells, c)
                second = cells - c
                inside = np.all((second >= 0) & (second < np.array(self.flags.shape)), axis=1)
                ok = np.zeros(len(cells), dtype=bool)
                # periodic ghost cells (flag -1) hold copies of fluid cells: usable too
                ok[inside] = self.flags[tuple(second[inside].T)] <= 0
                # q < 1/2 interpolates with the second fluid cell; without one, plain bounce-back.
                q = np.where((q < 0.5) & ~ok, -1.0, q)
                index["q"] = q
            elif b.kind == "ubb":
                wall_pts = cells - 0.5 + 0.5 * c
                if isinstance(b, MovingWall | VelocityInlet | MovingObstacle) and callable(
                    b.velocity
                ):
                    vel = np.asarray(b.velocity(wall_pts), dtype=float).reshape(len(cells), -1)
                else:
                    vel = np.broadcast_to(
                        np.asarray(b.velocity, dtype=float), (len(cells), self.dim)
                    )
                for a in range(self.dim):
                    index[f"vel_{a}"] = vel[:, a]
                if isinstance(b, MovingObstacle):
                    self._wall_velocity[b.name] = np.array(vel, dtype=float)
            name = getattr(b, "name", None) or getattr(b, "side", "boundary")
            self._links.append(_LinkSet(name, b.kind, kernel, index, cells, dirs))

    def _init_convective(self) -> None:
        """Seed the last-step values of convective-outflow links from the current PDFs (lbmpy's
        init callback: the population against the link in the tangential neighbour inside)."""
        lat = self.lattice
        for s in self._links:
            if not s.kind.startswith("convective"):
                continue
            axis = "xyz".index(s.kind[-1])
            normal = np.zeros(self.dim, dtype=int)
            normal[axis] = 1 if s.kind[-2] == "+" else -1
            domain = s.cells + lat.c[s.dirs] - normal
            values = self.src[(*domain.T, lat.inv[s.dirs])]
            s.index["pdf"] = values
            s.index["pdf_nd"] = values

    def _sdf_of(self, b: Obstacle) -> np.ndarray:
        return self._wrap(sdf_on_grid(b, self.grid))

    def links(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(cells (N, D) padded indices, directions (N,)) of the links of boundary ``name``."""
        sets = [s for s in self._links if s.name == name]
        if not sets:
            raise KeyError(f"no boundary named {name!r}; have {[s.name for s in self._links]}")
        return (
            np.concatenate([s.cells for s in sets]),
            np.concatenate([s.dirs for s in sets]),
        )

    def scale_wall_velocity(self, name: str, scale: float) -> None:
        """Set the walls of moving obstacle ``name`` to ``scale`` times the velocities they were
        built with (call between steps; 0 stops them)."""
        if name not in self._wall_velocity:
            raise KeyError(f"no moving obstacle named {name!r}; have {list(self._wall_velocity)}")
        if not np.isfinite(scale):
            raise ValueError(f"wall velocity scale {scale} of {name!r} is not finite")
        base = self._wall_velocity[name]
        for s in self._links:
            if s.name == name:
                for a in range(self.dim):
                    s.index[f"vel_{a}"] = scale * base[:, a]

    def wall_mass_flux(self, name: str) -> float:
        """Mass per step that moving obstacle ``name``'s walls inject into the fluid at scale 1
        (lattice units, per unit depth in 2-D; negative: sucked in), from the velocity
        bounce-back rule: each link adds ``6 w_i rho0 (-c_i . u_w)``, ``c_i`` pointing into the
        wall, ``rho0 = 1``."""
        if name not in self._wall_velocity:
            raise KeyError(f"no moving obstacle named {name!r}; have {list(self._wall_velocity)}")
        lat = self.lattice
        c = lat.c[self._link_dirs(name)].astype(float)
        u = self._wall_velocity[name]
        return float((6.0 * lat.w[self._link_dirs(name)] * -(c * u).sum(axis=1)).sum())

    def _link_dirs(self, name: str) -> np.ndarray:
        return np.concatenate([s.dirs for s in self._links if s.name == name])

    # ----------------------------------------------------------------------- state
    def initialise(self, rho: np.ndarray | float = 1.0, u: np.ndarray | None = None) -> None:
        """Set the PDFs to equilibrium. ``rho``: scalar or ``(ny, nx[, nz])``; ``u``:
        ``(D, ny, nx[, nz])`` lattice velocity (default rest)."""
        lat = self.lattice
        inner = tuple(slice(1, -1) for _ in self.grid)
        rho_i = np.broadcast_to(np.asarray(rho, dtype=float), to_public(np.empty(self.grid)).shape)
        rho_i = np.swapaxes(rho_i, 0, 1)
        if u is None:
            u_i = np.zeros((self.dim, *self.grid))
        else:
            u_i = np.swapaxes(np.asarray(u, dtype=float), 1, 2)
        feq = equilibrium(lat.c, lat.w, rho_i, u_i, self.compressible)
        self.src[...] = 0.0
        self.src[inner] = np.moveaxis(feq - lat.w.reshape(-1, *([1] * self.dim)), 0, -1)
        self.dst[...] = self.src
        self.time = 0
        self._init_convective()

    def initialise_consistent(
        self,
        u: np.ndarray,
        rho: np.ndarray | float = 1.0,
        *,
        tol: float = 1e-4,
        max_steps: int = 1000,
        check_every: int = 10,
    ) -> int:
        """Start from the velocity ``u`` ``(D, ny, nx[, nz])`` (lattice units) with populations
        consistent with it: Mei, Luo, Lallemand & d'Humieres (Computers & Fluids 35, 2006).

        From the equilibrium at ``rho`` and ``u``, the lattice is stepped with the collision's
        equilibrium reading ``u`` (held) while the density and the non-equilibrium parts
        evolve, until the density changes by less than ``tol`` per step relative to its
        deviation from 1 (checked every ``check_every`` steps; at most ``max_steps``). The
        density then carries the pressure that ``u`` implies and the populations the stress,
        so the run that follows starts without the pressure waves of a plain equilibrium
        start. The step counter is reset to 0. Returns the iterations done.
        """
        if self.force is not None:
            raise ValueError("a consistent start is not supported with a body force")
        if max_steps < 0 or check_every < 1:
            raise ValueError(
                f"max_steps {max_steps} must be >= 0 and check_every {check_every} >= 1"
            )
        u = np.asarray(u, dtype=float)
        expected = (self.dim, *to_public(np.empty(self.grid)).shape)
        if u.shape != expected:
            raise ValueError(f"u has shape {u.shape}; this lattice needs {expected}")
        if not np.isfinite(u).all():
            raise ValueError("u holds NaN or inf: fill the solid cells (0) before starting")
        self.initialise(rho, u)
        if max_steps == 0:
            return 0
        kernel = _kernels.fixed_velocity_stream_collide(
            self.stencil, self.collision.name, self.dtype, self.threads, self.compressible
        )
        held = _kernels.empty_vector_field(self.grid, self.dim, self.dtype)
        held[tuple(slice(1, -1) for _ in self.grid)] = np.moveaxis(np.swapaxes(u, 1, 2), 0, -1)
        inner = tuple(slice(1, -1) for _ in self.grid)
        fluid = self.fluid[inner]

        def density() -> np.ndarray:
            return self.src[inner][fluid].astype(np.float64).sum(axis=-1)

        previous = density()
        done = 0
        while done < max_steps:
            k = min(check_every, max_steps - done)
            for _ in range(k):
                self.apply_boundaries()
                kernel(src=self.src, dst=self.dst, u_in=held, **self._params)
                self.src, self.dst = self.dst, self.src
            done += k
            current = density()
            if not np.isfinite(current).all():
                raise DivergenceError(done, math.inf, "NaN or inf in the consistent start")
            change = np.linalg.norm(current - previous) / k
            if change <= tol * (np.linalg.norm(current) + 1e-30):
                break
            previous = current
        self.time = 0
        self._init_convective()
        return done

    def save_state(self, path, *, attrs=None, overwrite: bool = False):
        """Write the populations, the step counter and the outlets' memory to ``path``
        (``.npz``): see :func:`flowlearn.physics.lbm.state.save_state`."""
        from flowlearn.physics.lbm.state import save_state

        return save_state(self, path, attrs=attrs, overwrite=overwrite)

    def load_state(self, path) -> dict:
        """Continue from a state saved by the same set-up: see
        :func:`flowlearn.physics.lbm.state.load_state`. Returns the attrs saved with it."""
        from flowlearn.physics.lbm.state import load_state

        return load_state(self, path)

    def apply_boundaries(self) -> None:
        """Fill the populations the fluid cells will pull from ghost / solid cells."""
        fill_periodic_ghosts(self.src, self.periodic)
        for s in self._links:
            s.kernel(src=self.src, indexField=s.index)

    def step(self, n: int = 1) -> None:
        """Advance ``n`` time steps."""
        kernel, params = self._kernel, self._params
        for _ in range(n):
            self.apply_boundaries()
            kernel(src=self.src, dst=self.dst, **params)
            self.src, self.dst = self.dst, self.src
        self.time += n

    # ------------------------------------------------------------------ observables
    def macroscopic(self) -> tuple[np.ndarray, np.ndarray]:
        """(rho ``(ny, nx[, nz])``, u ``(D, ny, nx[, nz])``) in lattice units; NaN in solids."""
        lat = self.lattice
        inner = tuple(slice(1, -1) for _ in self.grid)
        f = self.src[inner].astype(np.float64)
        rho = 1.0 + f.sum(axis=-1)
        j = np.einsum("...q,qd->d...", f, lat.c.astype(np.float64))
        if self.force is not None:
            # The arrays hold post-collision PDFs, whose momentum under Guo forcing is
            # rho u + F/2: take half the force back off.
            j -= 0.5 * np.asarray(self.force).reshape(-1, *([1] * self.dim))
        # incompressible (He-Luo) model: the momentum is the velocity (reference density 1)
        u = j / rho if self.compressible else j
        solid = ~self.fluid[inner]
        rho[solid] = np.nan
        u[:, solid] = np.nan
        return np.swapaxes(rho, 0, 1), np.swapaxes(u, 1, 2)

    def force_on(self, name: str = "obstacle") -> np.ndarray:
        """Force ``(D,)`` on boundary ``name`` by momentum exchange, lattice units (mass cells /
        step^2 per unit depth in 2-D). Call between steps."""
        self.apply_boundaries()
        lat = self.lattice
        total = np.zeros(self.dim)
        for s in self._links:
            if s.name != name:
                continue
            out = self.src[(*s.cells.T, s.dirs)].astype(np.float64) + lat.w[s.dirs]
            back_cells = s.cells + lat.c[s.dirs]
            inv = lat.inv[s.dirs]
            back = self.src[(*back_cells.T, inv)].astype(np.float64) + lat.w[inv]
            total += ((out + back)[:, None] * lat.c[s.dirs]).sum(axis=0)
        return total

    def check_finite(self) -> bool:
        inner = tuple(slice(1, -1) for _ in self.grid)
        return bool(np.isfinite(self.src[inner][self.fluid[inner]]).all())

    def run(
        self,
        steps: int,
        *,
        check_every: int = 100,
        steady_tol: float | None = None,
        min_steps: int = 0,
        callback: Callable[[Solver, float], None] | None = None,
        u_max: float = 0.5,
    ) -> RunReport:
        """Run up to ``steps`` steps, checking every ``check_every`` steps.

        The residual is the relative change of the velocity field over the last
        ``check_every`` steps, ``||u(t) - u(t - k)|| / ||u(t)||``, divided by ``k`` (a per-step
        rate); the run stops early once it drops below ``steady_tol`` (after ``min_steps``).
        A start of 1e-7 per step is steady to ~4 digits for most laminar flows. NaN, inf or
        ``|u| > u_max`` raise :class:`DivergenceError` naming the step and the last residual.
        ``callback(solver, residual)`` is called at each check (progress bars, probes).
        """
        start = time.perf_counter()
        residual = math.inf
        history: list[tuple[int, float]] = []
        _, u_prev = self.macroscopic()
        # Fluid cells in the [y, x(, z)] layout of macroscopic(): solids are NaN by design.
        fluid = np.swapaxes(self.fluid[tuple(slice(1, -1) for _ in self.grid)], 0, 1)
        done = 0
        steady = False
        while done < steps:
            k = min(check_every, steps - done)
            self.step(k)
            done += k
            _, u = self.macroscopic()
            u_fluid = u[:, fluid]
            if not np.isfinite(u_fluid).all():
                raise DivergenceError(self.time, residual, "NaN or inf in the velocity")
            fastest = float(np.sqrt((u_fluid**2).sum(axis=0)).max(initial=0.0))
            if fastest > u_max:
                raise DivergenceError(self.time, residual, f"|u| = {fastest:.3g} exceeds {u_max}")
            diff = np.sqrt(np.nansum((u - u_prev) ** 2))
            norm = np.sqrt(np.nansum(u**2))
            residual = float(diff / (norm + 1e-30) / k)
            history.append((self.time, residual))
            u_prev = u
            if callback is not None:
                callback(self, residual)
            if steady_tol is not None and done >= min_steps and residual < steady_tol:
                steady = True
                break
        return RunReport(done, steady, residual, time.perf_counter() - start, history)


def fill_periodic_ghosts(f: Any, periodic: Sequence[bool]) -> None:
    """Copy each periodic axis's last interior layer into its low ghost layer and its first
    into the high one, axis after axis (so corners wrap too). ``f``: ``(nx+2, ny+2[, nz+2], Q)``,
    a NumPy or CuPy array."""
    dim = len(periodic)
    for axis, p in enumerate(periodic):
        if not p:
            continue
        lo = [slice(None)] * dim
        hi = [slice(None)] * dim
        lo[axis], hi[axis] = 0, -2
        f[tuple(lo)] = f[tuple(hi)]
        lo[axis], hi[axis] = -1, 1
        f[tuple(lo)] = f[tuple(hi)]


def equilibrium(
    c: np.ndarray, w: np.ndarray, rho: np.ndarray, u: np.ndarray, compressible: bool = False
) -> np.ndarray:
    """Second-order equilibrium ``(Q, *shape)`` for density ``rho`` (shape) and velocity
    ``u`` ``(D, *shape)``, lattice units (c_s^2 = 1/3); the incompressible form multiplies
    the velocity terms by the reference density 1 instead of ``rho``."""
    cu = np.einsum("qd,d...->q...", c.astype(float), u)
    usq = (u**2).sum(axis=0)
    wq = w.reshape(-1, *([1] * rho.ndim))
    velocity_terms = 3.0 * cu + 4.5 * cu**2 - 1.5 * usq
    if compressible:
        return wq * rho * (1.0 + velocity_terms)
    return wq * (rho + velocity_terms)


def make_solver(
    grid: Sequence[int],
    nu: float,
    *,
    collision: Collision | None = None,
    boundaries: Sequence[Boundary] = (),
    periodic: Sequence[bool] | None = None,
    dtype: str = "float64",
    stencil: str | None = None,
    force: Sequence[float] | None = None,
    threads: int | None = None,
    compressible: bool = False,
) -> Solver:
    """Assemble a lattice Boltzmann solver.

    grid: interior cells ``(nx, ny[, nz])``; 2-D uses D2Q9, 3-D D3Q19 unless ``stencil`` says.
    nu: kinematic viscosity, lattice units (cells^2/step); 0.01-0.1 is comfortable
        (tau = 3 nu + 0.5 must exceed 0.502).
    collision: :class:`TRT` (default, magic 3/16) or :class:`BGK`.
    boundaries: walls, inlets, outlets (one per side) and :class:`Obstacle` s. Sides not
        named and not periodic are resting no-slip walls.
    periodic: one flag per axis (default: all False).
    dtype: "float64" (validation) or "float32" (twice the speed; fine at Ma <= 0.1).
    force: constant body force per unit volume ``(D,)``, lattice units (Guo forcing).
    threads: OpenMP threads (default: one per 200k cells, at most the cores available; the
        ``FLOWLEARN_THREADS`` environment variable forces a count).
    compressible: False (default) uses He & Luo's incompressible equilibrium, the right model
        for incompressible benchmarks; True the standard (compressible) one.
    """
    grid = tuple(int(n) for n in grid)
    dim = len(grid)
    if dim not in (2, 3):
        raise ValueError(f"grid must have 2 or 3 axes, got {grid}")
    stencil = stencil or ("D2Q9" if dim == 2 else "D3Q19")
    if dtype in _kernels.DTYPES:  # an unknown dtype is refused by the kernel, by name
        require_memory(
            solver_memory(grid, stencil, dtype),
            f"the {'x'.join(map(str, grid))} {stencil} lattice ({dtype})",
            "use a coarser grid" + (" or float32" if dtype == "float64" else ""),
        )
    return Solver(
        grid,
        nu,
        collision or TRT(),
        boundaries,
        tuple(periodic) if periodic is not None else (False,) * dim,
        dtype,
        stencil,
        tuple(force) if force is not None else None,
        threads or _kernels.threads_for(int(np.prod(grid))),
        compressible,
    )
