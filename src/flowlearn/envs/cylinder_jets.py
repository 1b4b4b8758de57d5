"""``flowlearn/CylinderJets-v0``: active flow control of a cylinder wake on flowlearn's LBM, after
Rabault, Kuchta, Jensen, Réglade & Cerardi (J. Fluid Mech. 865, 2019).

- **flow**: the Schäfer–Turek 2D-2 channel at Re 100 (cylinder D = 0.1 at (0.2, 0.2) in a 2.2
  x 0.41 channel, parabolic inflow of mean U = 1), :func:`flowlearn.physics.lbm.cases.
  schafer_turek_jets` at ``cells_per_diameter`` (16 by default: the coarsest at which the
  case runs; at 10 it diverges);
- **actuation**: two slots at the top and the bottom of the cylinder (10 degrees wide, radial,
  a cosine profile) with zero net mass flux: the top one injects ``Q``, the bottom one the
  same ``-Q``. The action ``a`` in [-1, 1] sets the target ``Q = a * max_jet * Q_ref``, ``Q_ref``
  the inflow's mass flow across the cylinder's diameter; ``Q`` relaxes towards it during the
  action, closing the share ``smoothing`` of the gap every ``steps_per_action // 10`` LBM
  steps (about a tenth of an action: 11 updates of 8 steps at 16 cells per diameter), so the
  jets never jump. The default 0.05 is a time constant of about two actions (a sixth of a shedding
  period): the jets follow the shedding, and jets reversed at every action oscillate at about
  a quarter of their bound. With 0.3 (the target reached within an action, as
  in Rabault et al.) the policies learned to reverse the jets about every action at the full
  bound, raising the lift's fluctuations, and their gain shrank on a finer grid
  (README, flow-control);
- **observation**: the pressure (``(p - p_outlet) / (rho U^2)``) at probes on two rings about
  the cylinder and on a grid in the near wake (:func:`probe_points`);
- **reward** (Rabault et al.): ``C_D0 - <C_D> - 0.2 |<C_L>|``, the averages over the last
  shedding period, ``C_D0`` the uncontrolled flow's mean drag, so the uncontrolled flow scores
  about 0. **The drag is the force on the cylinder's walls**, the slots excluded: the jets'
  own momentum flux (``info["jet_force"]``) is reported apart, so a reduction cannot come from
  jet thrust;
- **episodes** start from a developed vortex street (made once per setting and saved with a
  checksum in the cache, :mod:`flowlearn.physics.lbm.state`), at a random phase of the
  shedding drawn from the reset's seed; an episode lasts ``episode_periods`` shedding periods.
  A diverging solver ends the episode (``terminated``) with ``info["diverged"]`` saying why;
  its observation is the last finite one, never NaN.

``import flowlearn.envs`` registers the environment: ``gymnasium.make("flowlearn/CylinderJets-v0",
cells_per_diameter=16)``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import deque
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from filelock import FileLock

from flowlearn.data.cache import cache_dir
from flowlearn.physics.lbm import cases
from flowlearn.physics.lbm import state as lbm_state
from flowlearn.physics.lbm.observables import pressure

log = logging.getLogger("flowlearn")

#: Below this the Schäfer–Turek 2D-2 case diverges on flowlearn's LBM (measured: 10, 12 and 13
#: cells per diameter diverge within 5 shedding periods; 14 runs 20 periods, C_D about 3.19).
MIN_CELLS_PER_DIAMETER = 14
#: The jets' fastest wall speed (lattice units) that keeps the LBM stable and its Mach error
#: small.
MAX_JET_LATTICE_SPEED = 0.15
#: Rabault et al.'s weight of the lift in the reward.
LIFT_PENALTY = 0.2
#: Reward of the step that diverges (then the episode ends).
DIVERGED_REWARD = -10.0


def probe_points(diameter: float = 1.0) -> np.ndarray:
    """Probe positions ``(N, 2)`` relative to the cylinder's centre, in diameters: two rings
    (radius 0.6 and 0.8 D, 24 probes each) and a 9 x 7 grid from 0.75 to 4.75 D downstream,
    -0.9 to 0.9 D across (111 probes; Rabault et al. used 151 on a similar layout)."""
    ang = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    rings = [np.stack([r * np.cos(ang), r * np.sin(ang)], 1) for r in (0.6, 0.8)]
    gx, gy = np.meshgrid(np.linspace(0.75, 4.75, 9), np.linspace(-0.9, 0.9, 7))
    grid = np.stack([gx.ravel(), gy.ravel()], 1)
    return np.concatenate([*rings, grid]) * diameter


class CylinderJetsEnv(gym.Env):
    """See the module's docstring."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(
        self,
        cells_per_diameter: int = 16,
        re: float = 100.0,
        max_jet: float = 0.06,
        actions_per_period: int = 12,
        episode_periods: float = 6.0,
        smoothing: float = 0.05,
        develop_periods: float = 40.0,
        cache_dir: str | Path | None = None,
        render_mode: str | None = None,
    ) -> None:
        if cells_per_diameter < MIN_CELLS_PER_DIAMETER:
            raise ValueError(
                f"{cells_per_diameter} cells per diameter: the Schäfer–Turek flow at Re {re:g} "
                f"diverges below {MIN_CELLS_PER_DIAMETER} on this LBM (13 does); use 16 or more"
            )
        if not 0 < max_jet <= 0.5:
            raise ValueError(f"max_jet {max_jet}: a share of the reference mass flow in (0, 0.5]")
        if not 40 <= re <= 200:
            raise ValueError(f"Re {re:g}: the jets case sheds a laminar street for Re 40-200")
        if not 1 <= actions_per_period <= 200 or not 0 < smoothing <= 1:
            raise ValueError(
                f"actions_per_period {actions_per_period} (1-200), smoothing {smoothing} (0-1]"
            )
        if episode_periods <= 0 or develop_periods < 5:
            raise ValueError(
                f"episode_periods {episode_periods} (> 0), develop_periods {develop_periods} (>= 5)"
            )
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode {render_mode!r}: None or 'rgb_array'")
        self.render_mode = render_mode
        self.settings = {
            "cells_per_diameter": int(cells_per_diameter),
            "re": float(re),
            "max_jet": float(max_jet),
            "actions_per_period": int(actions_per_period),
            "episode_periods": float(episode_periods),
            "smoothing": float(smoothing),
            "develop_periods": float(develop_periods),
        }
        self.case = cases.schafer_turek_jets(re=re, cells_per_diameter=cells_per_diameter)
        s, a = self.case.solver, self.case.attrs
        self.units = self.case.units
        d_cells = self.case.ref_length / self.units.dx
        u_mean = self.units.u_lattice
        centre = np.array(cases.ST_CENTER) / self.units.dx
        ny = s.grid[1]
        # the inflow's mass flow across the cylinder's diameter (parabolic, peak 1.5 U)
        y = centre[1] + np.linspace(-d_cells / 2, d_cells / 2, 201)
        profile = 6 * u_mean * y * (ny - y) / ny**2
        self.q_ref = float(np.trapezoid(profile, y))
        self.q_max = max_jet * self.q_ref
        flux = {n: a[f"{n}_mass_flux"] for n in cases.JET_ANGLES}
        self._scale = {n: self.q_max / f for n, f in flux.items()}  # wall scale at |a| = 1
        peak = max(self._scale.values()) * u_mean
        if peak > MAX_JET_LATTICE_SPEED:
            raise ValueError(
                f"max_jet {max_jet}: the jets would blow at {peak:.3f} cells per step, above "
                f"{MAX_JET_LATTICE_SPEED} (the LBM turns unstable); lower max_jet or refine"
            )
        st = 0.3  # Schäfer–Turek 2D-2: St = f D / U_mean = 0.2950-0.3050
        self.period_steps = round(d_cells / u_mean / st)
        self.steps_per_action = max(self.period_steps // actions_per_period, 10)
        self.episode_actions = max(1, round(episode_periods * actions_per_period))
        self._avg = max(1, round(self.period_steps / self.steps_per_action))  # actions a period
        self.probes = centre + probe_points(d_cells)
        self.observation_space = gym.spaces.Box(
            -np.inf, np.inf, shape=(len(self.probes),), dtype=np.float32
        )
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self._cache = Path(cache_dir) if cache_dir else None
        self._start, self.cd0 = self._developed()
        self._q = 0.0

    # ----------------------------------------------------------------------- the flow
    def _key(self) -> str:
        keep = ("cells_per_diameter", "re", "develop_periods")
        blob = json.dumps({k: self.settings[k] for k in keep}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def _developed(self) -> tuple[np.ndarray, float]:
        """The developed vortex street (made once, saved in the cache) and its mean drag."""
        folder = self._cache or cache_dir() / "control"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"cylinder-jets-{self._key()}.npz"
        s = self.case.solver
        with FileLock(str(path) + ".lock"):
            if path.exists():
                attrs = lbm_state.load_state(s, path)
            else:
                log.info("developing the vortex street once: %s", path)
                n = round(self.settings["develop_periods"] * self.period_steps)
                s.step(n)
                cd = []
                for _ in range(self.period_steps * 2 // 10):  # the mean over two periods
                    s.step(10)
                    cd.append(self.case.coefficients()["cd"])
                if not s.check_finite() or not np.isfinite(cd).all():
                    raise RuntimeError(
                        f"the uncontrolled flow diverged at {self.settings['cells_per_diameter']} "
                        "cells per diameter: refine the grid"
                    )
                attrs = {"cd0": float(np.mean(cd)), **self.settings}
                lbm_state.save_state(s, path, attrs=attrs)
        return s.src.copy(), float(attrs["cd0"])

    def _set_jets(self, q: float) -> None:
        s = self.case.solver
        s.scale_wall_velocity("jet_top", q / self.q_max * self._scale["jet_top"])
        s.scale_wall_velocity("jet_bottom", -q / self.q_max * self._scale["jet_bottom"])

    def _observe(self) -> np.ndarray:
        rho, _ = self.case.solver.macroscopic()
        p = pressure(rho) / self.units.u_lattice**2
        # bilinear interpolation at the probes (cell centres at i + 0.5)
        x, y = self.probes[:, 0] - 0.5, self.probes[:, 1] - 0.5
        i, j = np.floor(x).astype(int), np.floor(y).astype(int)
        fx, fy = x - i, y - j
        p = np.nan_to_num(p, nan=0.0)  # probes are outside the body; solid cells weigh 0
        out = (p[j, i] * (1 - fx) * (1 - fy) + p[j, i + 1] * fx * (1 - fy)
               + p[j + 1, i] * (1 - fx) * fy + p[j + 1, i + 1] * fx * fy)  # fmt: skip
        return out.astype(np.float32)

    # ------------------------------------------------------------------ Gymnasium API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        s = self.case.solver
        s.src[...] = self._start
        s.dst[...] = self._start
        self._q = 0.0
        self._set_jets(0.0)
        # a random phase of the shedding, uncontrolled
        s.step(int(self.np_random.integers(0, self.period_steps)))
        self._cd: deque[float] = deque(maxlen=self._avg)
        self._cl: deque[float] = deque(maxlen=self._avg)
        self._n = 0
        self._obs = self._observe()
        return self._obs.copy(), {"cd0": self.cd0}

    def step(self, action):
        a = np.asarray(action, dtype=np.float64).reshape(-1)
        if a.size != 1 or not np.isfinite(a).all():
            raise ValueError(f"action {action!r}: one finite number in [-1, 1]")
        target = float(np.clip(a[0], -1.0, 1.0)) * self.q_max
        s = self.case.solver
        chunk = max(self.steps_per_action // 10, 1)
        cds, cls, jet = [], [], []
        done = 0
        while done < self.steps_per_action:
            n = min(chunk, self.steps_per_action - done)
            self._q += self.settings["smoothing"] * (target - self._q)
            self._set_jets(self._q)
            s.step(n)
            done += n
            c = self.case.coefficients()
            cds.append(c["cd"])
            cls.append(c["cl"])
            jet.append(s.force_on("jet_top") + s.force_on("jet_bottom"))
        self._n += 1
        truncated = self._n >= self.episode_actions
        if not s.check_finite() or not np.isfinite(cds).all():
            msg = (f"the LBM diverged after {self._n} actions (jet {self._q / self.q_ref:+.3f} "
                   "of the reference mass flow)")  # fmt: skip
            log.warning("%s: the episode ends", msg)
            return self._obs.copy(), DIVERGED_REWARD, True, False, {"diverged": msg}
        self._cd.append(float(np.mean(cds)))
        self._cl.append(float(np.mean(cls)))
        cd, cl = float(np.mean(self._cd)), float(np.mean(self._cl))
        reward = self.cd0 - cd - LIFT_PENALTY * abs(cl)
        self._obs = self._observe()
        f_lat = np.mean(jet, axis=0)
        coef = 2.0 / (self.units.u_lattice**2 * self.case.ref_length / self.units.dx)
        info = {
            "cd": self._cd[-1],
            "cl": self._cl[-1],
            "cd_period": cd,
            "cl_period": cl,
            "jet": self._q / self.q_ref,  # the top jet's mass flow / the reference
            "jet_force": (float(f_lat[0] * coef), float(f_lat[1] * coef)),
        }
        return self._obs.copy(), float(reward), False, truncated, info

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        from matplotlib import colormaps

        _, u = self.case.solver.macroscopic()
        w = np.gradient(u[1], axis=1) - np.gradient(u[0], axis=0)
        lim = 4 * np.nanstd(w) or 1.0
        rgb = colormaps["RdBu_r"](np.clip(np.nan_to_num(w) / lim * 0.5 + 0.5, 0, 1))[..., :3]
        rgb[np.isnan(u[0])] = 0.5
        return (255 * rgb[::-1]).astype(np.uint8)
