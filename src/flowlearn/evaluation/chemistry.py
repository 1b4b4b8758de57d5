"""Chemistry networks measured against Cantera: one-step errors, rolled-out ignitions, the
hybrid integrator, and the speed of both sides at equal accuracy.

- :func:`one_step_errors`: the network's next state against Cantera's strict one.
- :func:`rollout`: the network (or ensemble) used as the integrator, ``n`` steps from the unburnt
  mixtures of several conditions at once; in the hybrid mode, each state whose ensemble spread
  exceeds a threshold is advanced by Cantera instead, and the share of those is counted.
- :func:`ignition_errors`: ignition delay, peak and final temperatures and element drift of a
  rollout against the reference ignitions.
- :func:`cantera_sweep`: Cantera's cost per state for the same step at a sweep of tolerances
  and reactor models, and the accuracy of each setting used as a CFD code uses it (stepped at
  ``dt``, reinitialised every step) judged by the same ignition-delay error as the network.
- :func:`network_costs`: the network's cost per state at several batch sizes, transforms
  included, one thread.
- :func:`equal_accuracy`: the speed-up against the cheapest Cantera setting at least as accurate,
  beside the naive ratio against strict tolerances, and the break-even count of states.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from flowlearn.physics import chemistry as chem


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """torch on one thread inside (Cantera's integrator runs on one): costs compare like for
    like, core for core."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)


# ------------------------------------------------------------------------------ one step
def one_step_errors(
    ensemble, states: np.ndarray, successors: np.ndarray, size=None, conserve: bool = False
) -> dict:
    """Errors of one step on pairs ``states (N, 2+S)`` -> ``successors (N, 1+S)``: the
    temperature (K, mean and 99th percentile of the absolute error), the mass fractions (mean
    over states of the largest absolute error over species), and the normalised increment's
    RMSE (the training loss's scale: 1 is the spread of the true increments)."""
    with torch.no_grad():
        s = torch.as_tensor(states)
        nxt = ensemble.step(s, conserve, size=size).numpy()
        net = ensemble.first
        d_true = net.targets(s, torch.as_tensor(successors)).numpy()
        members = list(ensemble.members)[: size or len(ensemble.members)]
        d_pred = torch.stack([m.net(net.features(s)) for m in members]).mean(0).numpy()
    dT = np.abs(nxt[:, 0] - successors[:, 0])
    dY = np.abs(nxt[:, 1:] - successors[:, 1:]).max(axis=1)
    return {
        "T_mean_K": float(dT.mean()),
        "T_p99_K": float(np.percentile(dT, 99)),
        "Y_max_mean": float(dY.mean()),
        "increment_rmse": float(np.sqrt(np.mean((d_pred - d_true) ** 2))),
    }


# ------------------------------------------------------------------------------- rollout
@dataclass
class Fallback:
    """The hybrid mode: states whose ensemble spread exceeds ``threshold`` are advanced by
    ``reactor`` (a :class:`~flowlearn.physics.chemistry.Reactor`) instead of the network."""

    threshold: float
    reactor: Any


@dataclass
class Rollout:
    """A rollout: temperatures ``T (n + 1, B)``, mass fractions every ``every`` steps
    ``Y (m, B, S)`` (with their step indices ``steps``), the final mass fractions, the share of
    states advanced by Cantera, and the wall time (s)."""

    T: np.ndarray
    Y: np.ndarray
    steps: np.ndarray
    Y_final: np.ndarray
    fallback_share: float
    seconds: float


def rollout(
    ensemble,
    T0: np.ndarray,
    p: np.ndarray,
    Y0: np.ndarray,
    n_steps: int,
    dt: float,
    *,
    conserve: bool = False,
    fallback: Fallback | None = None,
    size: int | None = None,
    every: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Rollout:
    """Advance ``B`` states (``T0 (B,)`` K, ``p (B,)`` Pa, ``Y0 (B, S)``) by ``n_steps`` steps of
    the network (the first ``size`` members of the ensemble; all by default). A rollout whose
    state leaves the physical range (temperature not positive, anything not finite) is marked
    diverged: NaN from there on."""
    T0, p, Y0 = np.asarray(T0, float), np.asarray(p, float), np.asarray(Y0, float)
    every = every or max(1, n_steps // 400)
    state = torch.as_tensor(np.column_stack([T0, p, Y0]))
    pcol = state[:, 1:2].clone()
    Ts = np.empty((n_steps + 1, len(T0)))
    Ts[0] = T0
    rec_steps = list(range(0, n_steps + 1, every))
    Ys = np.empty((len(rec_steps), *Y0.shape))
    Ys[0] = Y0
    fell = 0
    start = time.perf_counter()
    r = 1
    for k in range(1, n_steps + 1):
        inc, spread = ensemble.increments(state, size)
        nxt = ensemble.first.apply(state, inc, conserve)
        if fallback is not None:
            alive = np.isfinite(state.numpy()).all(axis=1)
            bad = np.flatnonzero((spread.numpy() > fallback.threshold) & alive)
            if len(bad):
                s = state[bad].numpy()
                nxt[bad] = torch.as_tensor(
                    fallback.reactor.advance_many(s[:, 0], s[:, 1], s[:, 2:], dt)
                )
                fell += len(bad)
        # a state left the physical range (T <= 0, not finite): that rollout has diverged;
        # it stays NaN (no ignition) rather than feed garbage to Cantera or the network
        gone = ~(torch.isfinite(nxt).all(dim=1) & (nxt[:, 0] > 0))
        nxt[gone] = torch.nan
        state = torch.cat([nxt[:, :1], pcol, nxt[:, 1:]], dim=1)
        Ts[k] = nxt[:, 0].numpy()
        if r < len(rec_steps) and k == rec_steps[r]:
            Ys[r] = nxt[:, 1:].numpy()
            r += 1
        if progress is not None and k % 1000 == 0:
            progress(k, n_steps)
    return Rollout(
        T=Ts,
        Y=Ys,
        steps=np.array(rec_steps),
        Y_final=state[:, 2:].numpy(),
        fallback_share=fell / max(1, n_steps * len(T0)),
        seconds=time.perf_counter() - start,
    )


def ignition_errors(
    ro: Rollout,
    dt: float,
    n_steps: np.ndarray,
    tau: np.ndarray,
    T_peak: np.ndarray,
    T_final: np.ndarray,
    Y0: np.ndarray,
    elements: np.ndarray,
) -> dict[str, np.ndarray]:
    """Per trajectory ``b``, over its own ``n_steps[b]`` steps: the relative ignition-delay
    error (inf where the network never ignites), the peak and final (at ``END_FACTOR * tau``)
    temperature errors (K),
    and the largest relative drift of an element's mass fraction (elements present above
    1e-6)."""
    B = len(tau)
    out = {k: np.empty(B) for k in ("tau", "tau_error", "peak_K", "final_K", "element_drift")}
    for b in range(B):
        n = int(n_steps[b])
        T = ro.T[: n + 1, b]
        t = np.arange(n + 1) * dt
        out["tau"][b] = chem.ignition_delay(t, T)
        err = abs(out["tau"][b] - tau[b]) / tau[b]
        out["tau_error"][b] = err if math.isfinite(err) else math.inf
        out["peak_K"][b] = abs(T.max() - T_peak[b])
        # at the reference's own end time (the rollout's last step may lie up to dt past it,
        # which right after an ignition is worth several kelvin)
        out["final_K"][b] = abs(np.interp(chem.END_FACTOR * tau[b], t, T) - T_final[b])
    z0 = Y0 @ elements.T
    z1 = ro.Y_final @ elements.T
    present = z0 > 1e-6
    drift = np.where(present, np.abs(z1 - z0) / np.where(present, z0, 1.0), 0.0)
    out["element_drift"] = drift.max(axis=1)
    return out


def summary(errors: np.ndarray) -> dict[str, float]:
    """Mean, median, 90th percentile and maximum of relative errors, and the share of
    failures (infinite: no ignition)."""
    e = np.asarray(errors, float)
    finite = e[np.isfinite(e)]
    return {
        "mean": float(e.mean()) if len(finite) == len(e) else math.inf,
        # order statistics (no interpolation between a finite error and a failure's inf)
        "median": float(np.quantile(e, 0.5, method="nearest")),
        "p90": float(np.quantile(e, 0.9, method="nearest")),
        "max": float(e.max()),
        "failed": float(np.mean(~np.isfinite(e))),
    }


# ------------------------------------------------------------------------------- speed
@dataclass(frozen=True)
class Setting:
    """A Cantera setting: reactor kind, preconditioner, tolerances."""

    kind: str
    preconditioned: bool
    rtol: float
    atol: float

    @property
    def label(self) -> str:
        pre = "+prec" if self.preconditioned else ""
        return f"{self.kind}{pre} {self.rtol:g}/{self.atol:g}"


#: Tolerances swept, strict first: the labels' setting, a production one, then looser.
TOLERANCES = ((1e-9, 1e-15), (1e-6, 1e-10), (1e-4, 1e-8), (1e-3, 1e-6), (1e-2, 1e-4))


def time_cantera(mechanism: str, states: np.ndarray, dt: float, setting: Setting) -> np.ndarray:
    """Seconds per state (one thread, reused reactor) to advance each of ``states (N, 2+S)`` by
    ``dt``."""
    r = chem.Reactor(mechanism, setting.rtol, setting.atol, setting.kind, setting.preconditioned)
    r.advance(states[0, 0], states[0, 1], states[0, 2:], dt)  # warm-up
    out = np.empty(len(states))
    for i, s in enumerate(states):
        t0 = time.perf_counter()
        r.advance(s[0], s[1], s[2:], dt)
        out[i] = time.perf_counter() - t0
    return out


def stepped_ignitions(
    mechanism: str,
    T0: Sequence[float],
    p: Sequence[float],
    phi: Sequence[float],
    n_steps: Sequence[int],
    dt: float,
    setting: Setting,
) -> tuple[np.ndarray, float]:
    """Each condition's ignition delay when Cantera advances it ``dt`` at a time, reinitialised
    every step as a CFD code's chemistry call is, and the seconds this took."""
    r = chem.Reactor(mechanism, setting.rtol, setting.atol, setting.kind, setting.preconditioned)
    taus = np.empty(len(T0))
    start = time.perf_counter()
    for b in range(len(T0)):
        Y = chem.initial_state(mechanism, T0[b], p[b], phi[b])
        T = float(T0[b])
        Ts = [T]
        for _ in range(int(n_steps[b])):
            T, Y = r.advance(T, p[b], Y, dt)
            Ts.append(T)
        taus[b] = chem.ignition_delay(np.arange(len(Ts)) * dt, np.array(Ts))
    return taus, time.perf_counter() - start


def adaptive_ignitions(
    mechanism: str, T0, p, phi, t_end, setting: Setting
) -> tuple[np.ndarray, np.ndarray]:
    """Each condition's ignition delay when Cantera integrates the whole ignition at its own
    adaptive steps (the efficient way to get one ignition), and the seconds each took."""
    taus, secs = np.empty(len(T0)), np.empty(len(T0))
    for b in range(len(T0)):
        t0 = time.perf_counter()
        traj = chem.ignition(
            mechanism,
            T0[b],
            p[b],
            phi[b],
            t_end=float(t_end[b]),
            rtol=setting.rtol,
            atol=setting.atol,
        )
        secs[b] = time.perf_counter() - t0
        taus[b] = traj.tau
    return taus, secs


def network_costs(
    ensemble,
    states: np.ndarray,
    batches: Sequence[int] = (1, 64, 1024, 16384),
    size=None,
    conserve: bool = False,
) -> dict[str, float]:
    """Seconds per state of one ensemble step (``size`` members) at each batch size, transforms
    and normalisation included, one thread; the states are tiled up to the batch."""
    out = {}
    with one_thread():
        for b in batches:
            idx = np.arange(b) % len(states)
            x = torch.as_tensor(states[idx])
            ensemble.step(x, conserve, size=size)
            reps = max(3, min(200, int(20_000 / b)))
            best = math.inf
            for _ in range(3):
                t0 = time.perf_counter()
                for _ in range(max(1, reps // 3)):
                    ensemble.step(x, conserve, size=size)
                best = min(best, (time.perf_counter() - t0) / max(1, reps // 3))
            out[str(b)] = best / b
    return out


def cantera_sweep(
    mechanism: str,
    states: np.ndarray,
    dt: float,
    conditions: dict[str, np.ndarray],
    *,
    tolerances=TOLERANCES,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Cantera's cost per state and accuracy at each tolerance, with the fastest reactor model.

    The model (mass or mole reactor, with or without the preconditioner) is chosen by timing
    each at the production tolerance on the states: the fastest is "Cantera at its best". Then
    for each tolerance: seconds per state (mean, p50, p90), the ignition delays stepped at
    ``dt`` (per-state accuracy as a CFD code uses it) and integrated adaptively (per
    trajectory), each against the strict adaptive reference ``conditions["tau"]``.
    ``conditions``: ``T0``, ``p``, ``phi``, ``tau``, ``n_steps`` (steps to the end) arrays."""
    say = progress or (lambda _m: None)
    models = {}
    for kind, pre in (("mass", False), ("mole", False), ("mole", True)):
        s = Setting(kind, pre, 1e-6, 1e-10)
        say(f"Cantera model {s.label}")
        models[s.label] = (s, float(np.median(time_cantera(mechanism, states, dt, s))))
    best_label = min(models, key=lambda k: models[k][1])
    best = models[best_label][0]
    c = conditions
    t_end = c["n_steps"] * dt
    rows = []
    for rtol, atol in tolerances:
        s = Setting(best.kind, best.preconditioned, rtol, atol)
        say(f"Cantera {s.label}")
        per = time_cantera(mechanism, states, dt, s)
        stepped, stepped_s = stepped_ignitions(
            mechanism, c["T0"], c["p"], c["phi"], c["n_steps"], dt, s
        )
        adaptive, adaptive_s = adaptive_ignitions(mechanism, c["T0"], c["p"], c["phi"], t_end, s)
        rows.append(
            {
                "rtol": rtol,
                "atol": atol,
                "label": s.label,
                "per_state_mean_s": float(per.mean()),
                "per_state_p50_s": float(np.median(per)),
                "per_state_p90_s": float(np.percentile(per, 90)),
                "stepped_tau_error": summary(np.abs(stepped - c["tau"]) / c["tau"]),
                "stepped_seconds": stepped_s,
                "adaptive_tau_error": summary(np.abs(adaptive - c["tau"]) / c["tau"]),
                "adaptive_seconds_per_ignition": float(adaptive_s.mean()),
            }
        )
    return {
        "models": {k: {"median_s": v[1]} for k, v in models.items()},
        "model": best_label,
        "rows": rows,
    }


def equal_accuracy(
    net_error: float,
    net_seconds: float,
    rows: list[dict[str, Any]],
    cost_key: str,
    error_key: str,
) -> dict[str, Any]:
    """The cheapest Cantera setting whose error (``row[error_key]["mean"]``) is at most the
    network's ``net_error``, its cost ``row[cost_key]`` against the network's ``net_seconds``
    (the speed-up at equal accuracy), and the naive ratio against the strict (first) row.

    Equal accuracy needs a Cantera setting at least as inaccurate as the network: when the
    network is worse than every setting that still ignites (or never ignites itself), there
    is none, and ``comparable`` is False with no speed-up (a network that fails is not "as
    accurate" as the loosest tolerance, however cheap it is)."""
    strict = rows[0]
    errors = [float(r[error_key]["mean"]) for r in rows]
    finite = [e for e in errors if math.isfinite(e)]
    comparable = math.isfinite(net_error) and bool(finite) and net_error <= max(finite)
    ok = [r for r, e in zip(rows, errors, strict=True) if e <= net_error]
    cheapest = min(ok, key=lambda r: r[cost_key]) if comparable and ok else None
    return {
        "comparable": bool(cheapest is not None),
        "setting": cheapest["label"] if cheapest else None,
        "cantera_error": cheapest[error_key]["mean"] if cheapest else None,
        "cantera_seconds": cheapest[cost_key] if cheapest else None,
        "network_seconds": net_seconds,
        "network_error": net_error,
        "speedup": cheapest[cost_key] / net_seconds if cheapest else None,
        "naive_speedup": strict[cost_key] / net_seconds,
    }


def break_even(cost_seconds: float, cantera_s: float | None, network_s: float) -> float:
    """States to advance before the network's data and training (``cost_seconds``) are paid
    back by its saving per state; ``inf`` when it saves nothing or has no Cantera setting of
    equal accuracy to save against (``cantera_s`` None)."""
    if cantera_s is None:
        return math.inf
    saving = cantera_s - network_s
    return cost_seconds / saving if saving > 0 else math.inf
