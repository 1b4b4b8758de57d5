"""Chemistry, the talk's slide: a network "reduced cost of chemical computation by 100",
measured against Cantera on the same core, at equal accuracy.

- **data** (:mod:`flowlearn.data.chemistry`): states along constant-pressure autoignitions of a
  detailed mechanism (h2o2 or GRI-Mech 3.0) over ranges of initial temperature, pressure and
  equivalence ratio, plus perturbed copies, each labelled by Cantera one step ``dt`` later at
  strict tolerances; whole trajectories are held out for validation and test, and a band of
  hotter initial temperatures than any trained is the extrapolation set;
- **model**: an ensemble of MLPs on Box-Cox mass fractions predicting the increment
  (:mod:`flowlearn.models.chemistry`), trained with flowlearn's trainer;
- **accuracy**: one-step errors; the networks rolled out as the integrator from the unburnt
  mixture, against Cantera: ignition delay, peak and final temperature, element drift; the
  hybrid mode (Cantera where the ensemble's spread is above a threshold chosen on validation
  trajectories) with its share of fallbacks;
- **speed** (:mod:`flowlearn.evaluation.chemistry`): Cantera's cost per state at a sweep of
  tolerances with its fastest reactor model, against the network at batch 1 to 16,384, one
  core each; per trajectory, the rollout against Cantera's adaptive integration of the same
  ignition; each at equal ignition-delay error, beside the naive ratio, with the break-even.

Run: ``flowlearn run chemistry`` (h2o2), ``flowlearn run chemistry --set mechanism=gri30``.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, field_validator

from flowlearn.data import chemistry as cd
from flowlearn.data.cache import flow_datasets_dir
from flowlearn.experiments._base import Claim, Experiment, ExperimentConfig, Result
from flowlearn.physics import chemistry as chem

#: Initial temperatures (K) trained per mechanism. Hydrogen from 1,050 K: below, at 2 atm, the
#: mixture crosses its second explosion limit (~1,020 K), where the chemistry changes regime
#: (HO2 paths) and the delay jumps tenfold within 20 K; a network trained across it fails there
#: first. Methane from the issue's 1,200 K case (45 ms) up.
T0_RANGES = {"h2o2": (1050.0, 1250.0), "gri30": (1200.0, 1400.0)}
#: Mean ignition-delay error of the issue's target.
TAU_TARGET = 0.05


class Config(ExperimentConfig):
    mechanism: str = Field("h2o2", description="h2o2 (hydrogen / air) or gri30 (methane / air)")
    T0: tuple[float, float] | None = Field(
        None, description="initial temperatures (K); None: 1050-1250 for h2o2, 1200-1400 for gri30"
    )
    p: tuple[float, float] = Field((1.0, 2.0), description="pressures (atm)")
    phi: tuple[float, float] = Field((0.7, 1.3), description="equivalence ratios")
    trajectories: int = Field(200, ge=8, le=100_000)
    states: int = Field(100, ge=3, le=10_000, description="states per trajectory (x2 perturbed)")
    dt: float = Field(1e-6, gt=0, le=1e-4, description="step (s): 1e-6; 1e-7 and 1e-5 options")
    test_fraction: float = Field(0.15, gt=0, lt=0.5)
    val_fraction: float = Field(0.15, gt=0, lt=0.5)
    extrapolation: int = Field(8, ge=0, le=1000, description="trajectories of the hotter band")
    width: int = Field(128, ge=4, le=4096)
    depth: int = Field(3, ge=1, le=12)
    members: int = Field(3, ge=1, le=16, description="networks of the ensemble")
    epochs: int = Field(300, ge=1, le=100_000)
    batch_size: int = Field(512, ge=1, le=65_536)
    lr: float = Field(2e-3, gt=0, le=1.0)
    conserve: bool = Field(
        True, description="keep each step's elements and enthalpy (temperature from enthalpy)"
    )
    hybrid_quantiles: list[float] = Field(
        [0.9, 0.99, 0.999], description="spread quantiles tried as the hybrid threshold"
    )
    speed_states: int = Field(300, ge=10, le=100_000, description="states timed per setting")
    speed_conditions: int = Field(3, ge=1, le=1000, description="ignitions of the speed sweep")
    workers: int = Field(0, ge=0, le=1024, description="processes making data (0: all cores)")
    data_dir: str | None = Field(None, description="where the datasets are cached")

    @field_validator("mechanism")
    @classmethod
    def _known(cls, v: str) -> str:
        chem.mechanism(v)
        return v


def _say(text: str) -> None:
    print(text, flush=True)


def specs(config: Config) -> dict[str, cd.ChemSpec]:
    """The training / held-out set and the extrapolation band (hotter by a quarter of the
    trained range)."""
    lo, hi = config.T0 or T0_RANGES[config.mechanism]
    common = {
        "mechanism": config.mechanism,
        "p": config.p,
        "phi": config.phi,
        "states": config.states,
        "dt": config.dt,
        "seed": config.seed,
    }
    out = {"main": cd.ChemSpec(T0=(lo, hi), n=config.trajectories, **common)}
    if config.extrapolation:
        band = (hi, hi + 0.25 * (hi - lo))
        out["extrapolation"] = cd.ChemSpec(
            T0=band, n=config.extrapolation, **{**common, "seed": config.seed + 1}
        )
    return out


def _dataset(name: str, spec: cd.ChemSpec, config: Config):
    folder = Path(config.data_dir) if config.data_dir else flow_datasets_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"chem-{spec.mechanism}-{name}-{spec.fingerprint[:16]}.zarr"
    workers = config.workers or os.cpu_count() or 1

    def progress(done: int, todo: int) -> None:
        if done == todo or done % max(1, todo // 10) == 0:
            _say(f"  {name}: {done}/{todo} trajectories labelled")

    report = cd.generate(spec, path, workers=workers if spec.n >= 8 else 1, progress=progress)
    if report.computed:
        _say(f"  {name}: {report.computed} trajectories in {report.wall_time_s:.0f} s")
    return cd.read(path)


def pairs(ds, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``([T, p, Y] (N, 2+S), [T', Y'] (N, 1+S))`` of the trajectories ``idx``."""
    x, y = ds["x"].values[idx], ds["y"].values[idx]
    p = np.repeat(ds["p"].values[idx], x.shape[1])
    x, y = x.reshape(-1, x.shape[-1]), y.reshape(-1, y.shape[-1])
    return np.column_stack([x[:, :1], p, x[:, 1:]]), y


def split(n: int, config: Config) -> dict[str, np.ndarray]:
    """Whole trajectories: test, validation, train."""
    perm = np.random.default_rng(config.seed).permutation(n)
    n_test = max(2, round(config.test_fraction * n))
    n_val = max(2, round(config.val_fraction * n))
    return {
        "test": np.sort(perm[:n_test]),
        "val": np.sort(perm[n_test : n_test + n_val]),
        "train": np.sort(perm[n_test + n_val :]),
    }


class Ignitions:
    """The held-out ignitions of a dataset: conditions, reference values, unburnt mixtures."""

    def __init__(self, ds, idx: np.ndarray, mechanism: str, dt: float) -> None:
        self.idx = idx
        for name in ("T0", "p", "phi", "tau", "T_peak", "T_final"):
            setattr(self, name, ds[name].values[idx])
        conditions = zip(self.T0, self.p, self.phi, strict=True)
        self.Y0 = np.array([chem.initial_state(mechanism, *c) for c in conditions])
        self.n_steps = np.ceil(chem.END_FACTOR * self.tau / dt).astype(int)

    def subset(self, k: int) -> dict[str, np.ndarray]:
        """The first ``k`` conditions as the speed sweep takes them."""
        return {n: getattr(self, n)[:k] for n in ("T0", "p", "phi", "tau", "n_steps")}


def _roll(ens, ign: Ignitions, config: Config, elements, conserve: bool | None = None, **kw):
    from flowlearn.evaluation import chemistry as ev

    def progress(k: int, total: int) -> None:
        if total >= 20_000 and k % 10_000 == 0:  # methane: tens of thousands of steps
            _say(f"    step {k:,} of {total:,}")

    n = int(ign.n_steps.max())
    keep = config.conserve if conserve is None else conserve
    ro = ev.rollout(ens, ign.T0, ign.p, ign.Y0, n, config.dt, conserve=keep, progress=progress,
                    **kw)  # fmt: skip
    err = ev.ignition_errors(
        ro, config.dt, ign.n_steps, ign.tau, ign.T_peak, ign.T_final, ign.Y0, elements
    )
    return ro, err


def _rollout_metrics(ro, err) -> dict[str, Any]:
    """Summaries of a rollout's errors; temperatures and drift over the rollouts that did not
    diverge (those are counted in ``tau_error["failed"]``)."""
    from flowlearn.evaluation import chemistry as ev

    def finite(values: np.ndarray, reduce) -> float:
        kept = values[np.isfinite(values)]
        return float(reduce(kept)) if len(kept) else math.nan

    return {
        "tau_error": ev.summary(err["tau_error"]),
        "peak_T_error_K": finite(err["peak_K"], np.mean),
        "final_T_error_K": finite(err["final_K"], np.mean),
        "element_drift_max": finite(err["element_drift"], np.max),
        "fallback_share": ro.fallback_share,
        "seconds": ro.seconds,
    }


#: Validation ignitions the hybrid's threshold is chosen on (each candidate is a rollout), and
#: test ignitions it is measured on: each fallback is a strict Cantera step, several ms for
#: methane off the manifold, so the hybrid runs on a subset.
HYBRID_IGNITIONS = 4
HYBRID_TEST = 8


def choose_threshold(ens, val: Ignitions, spreads: np.ndarray, config: Config, elements):
    """The hybrid threshold, on validation ignitions only: of "never fall back" and the spread
    quantiles tried, the largest threshold (fewest fallbacks) whose mean ignition-delay error
    meets the target; the smallest when none does. Returns ``(threshold, table)``."""
    from flowlearn.evaluation import chemistry as ev

    reactor = chem.Reactor(config.mechanism)
    table = []
    candidates = [(q, float(np.quantile(spreads, q))) for q in sorted(config.hybrid_quantiles)]
    for q, thr in [*candidates, (None, math.inf)]:
        ro, err = _roll(ens, val, config, elements, fallback=ev.Fallback(thr, reactor))
        mean = ev.summary(err["tau_error"])["mean"]
        table.append(
            {"quantile": q, "threshold": thr, "val_tau_error": mean,
             "fallback_share": ro.fallback_share}
        )  # fmt: skip
    ok = [r for r in table if r["val_tau_error"] <= TAU_TARGET]
    chosen = max(ok, key=lambda r: r["threshold"]) if ok else table[0]
    return chosen["threshold"], table


# ------------------------------------------------------------------------------------ run
def run(config: Config, run_dir: Path) -> Result:
    from flowlearn.evaluation import chemistry as ev
    from flowlearn.training.chemistry import TrainSettings, train_ensemble

    start = time.perf_counter()
    sp = specs(config)
    _say(f"data: {config.mechanism}, {config.trajectories} ignitions x {2 * config.states} states")
    ds = _dataset("main", sp["main"], config)
    dx = _dataset("extrapolation", sp["extrapolation"], config) if "extrapolation" in sp else None
    data_s = time.perf_counter() - start
    data_cpu_s = float(ds["seconds"].sum()) + (float(dx["seconds"].sum()) if dx else 0.0)
    parts = split(config.trajectories, config)
    _, elements = chem.element_matrix(config.mechanism)
    xs, ys = pairs(ds, parts["train"])
    vx, vy = pairs(ds, parts["val"])
    _say(f"training {config.members} network(s) on {len(xs)} states")
    settings = TrainSettings(
        width=config.width,
        depth=config.depth,
        epochs=config.epochs,
        batch_size=config.batch_size,
        lr=config.lr,
        members=config.members,
        seed=config.seed,
        config=config.model_dump(mode="json"),
    )
    trained = train_ensemble(
        xs,
        ys,
        vx,
        vy,
        elements,
        chem.nasa7(config.mechanism),
        settings,
        run_dir / "models",
        fingerprint=sp["main"].fingerprint,
    )
    ens = trained.ensemble
    m: dict[str, Any] = {
        "mechanism": config.mechanism,
        "species": len(chem.species(config.mechanism)),
        "T0_range": list(sp["main"].T0),
        "states": {k: int(len(v) * 2 * config.states) for k, v in parts.items()},
        "trajectories": {k: len(v) for k, v in parts.items()},
        "data_seconds": data_s,
        "data_cpu_seconds": data_cpu_s,
        "train_seconds": trained.seconds,
    }
    a: dict[str, np.ndarray] = {
        "curve_train": np.array([h["train_loss"] for h in trained.histories[0]]),
        "curve_val": np.array([h["val_loss"] for h in trained.histories[0]]),
    }
    with ev.one_thread():  # small batches: a second thread only waits (and costs compare)
        evaluate(ens, ds, dx, parts, sp, config, m, a)
    m["total_seconds"] = time.perf_counter() - start
    m["targets"] = targets(m)
    return Result(metrics=m, claims=claims(config, m), arrays=a)


def evaluate(ens, ds, dx, parts, sp, config: Config, m: dict, a: dict) -> None:
    """Everything measured on the trained ensemble, into the metrics ``m`` and arrays ``a``."""
    import torch

    from flowlearn.evaluation import chemistry as ev

    _, elements = chem.element_matrix(config.mechanism)
    tx, ty = pairs(ds, parts["test"])
    vx, _ = pairs(ds, parts["val"])
    kind = ds["kind"].values[parts["test"]].reshape(-1)
    m["one_step"] = {
        "manifold": ev.one_step_errors(ens, tx[kind == 0], ty[kind == 0], conserve=config.conserve),
        "perturbed": ev.one_step_errors(
            ens, tx[kind == 1], ty[kind == 1], conserve=config.conserve
        ),
    }

    _say("rolling the networks out against Cantera")
    test = Ignitions(ds, parts["test"], config.mechanism, config.dt)
    val = Ignitions(ds, parts["val"][:HYBRID_IGNITIONS], config.mechanism, config.dt)
    ro, err = _roll(ens, test, config, elements)
    ro1, err1 = _roll(ens, test, config, elements, size=1)
    # conservation measured, not assumed: the same ensemble with it switched the other way
    ro0, err0 = _roll(ens, test, config, elements, conserve=not config.conserve)
    m["rollout"] = {
        "ensemble": _rollout_metrics(ro, err),
        "one_network": _rollout_metrics(ro1, err1),
        "conservation_" + ("off" if config.conserve else "on"): _rollout_metrics(ro0, err0),
    }
    a |= {
        "tau_ref": test.tau,
        "tau_net": err["tau"],
        "tau_one": err1["tau"],
        "T0_test": test.T0,
    }
    if dx is not None:
        ext = Ignitions(dx, np.arange(dx.sizes["trajectory"]), config.mechanism, config.dt)
        rox, errx = _roll(ens, ext, config, elements)
        m["extrapolation"] = {
            "T0_range": list(sp["extrapolation"].T0),
            **_rollout_metrics(rox, errx),
        }
        a |= {"tau_ref_extrapolation": ext.tau, "tau_net_extrapolation": errx["tau"]}

    _say("hybrid: choosing the fallback threshold on validation ignitions")
    with torch.no_grad():
        _, spreads = ens.increments(torch.as_tensor(vx))
    thr, table = choose_threshold(ens, val, spreads.numpy(), config, elements)
    sub = Ignitions(ds, parts["test"][:HYBRID_TEST], config.mechanism, config.dt)
    roh, errh = _roll(
        ens, sub, config, elements, fallback=ev.Fallback(thr, chem.Reactor(config.mechanism))
    )
    m["hybrid"] = {
        "threshold": thr,
        "validation": table,
        "ignitions": len(sub.T0),
        "network_alone_tau_error": ev.summary(err["tau_error"][: len(sub.T0)]),
        **_rollout_metrics(roh, errh),
    }

    # trajectories for the figure: up to 4 of the hybrid's test ignitions against Cantera's
    k = len(sub.T0)
    show = np.argsort(test.T0[:k])[np.linspace(0, k - 1, min(4, k)).astype(int)]
    a["show_T0"] = test.T0[show]
    a["show_t"] = np.arange(ro.T.shape[0]) * config.dt
    a["show_T_net"] = ro.T[:, show]
    a["show_T_hybrid"] = np.full((ro.T.shape[0], len(show)), np.nan)
    a["show_T_hybrid"][: roh.T.shape[0]] = roh.T[:, show]
    a["show_steps"] = test.n_steps[show]
    for j, b in enumerate(show):
        ref = chem.ignition(
            config.mechanism,
            test.T0[b],
            test.p[b],
            test.phi[b],
            t_end=float(test.n_steps[b] * config.dt),
        )
        a[f"show_ref_t_{j}"], a[f"show_ref_T_{j}"] = ref.t, ref.T

    _say("speed: Cantera's tolerance sweep against the network, one core each")
    training_cost = m["data_cpu_seconds"] + m["train_seconds"]
    m["speed"] = speed(ens, ds, parts["test"], test, err, err1, config, training_cost)


def speed(
    ens,
    ds,
    test_idx,
    test: Ignitions,
    err,
    err1,
    config: Config,
    training_cost: float,
    progress=_say,
) -> dict[str, Any]:
    """The cost-accuracy comparison (see :mod:`flowlearn.evaluation.chemistry`) on the test
    ignitions' states and first ``config.speed_conditions`` conditions, given the rollouts'
    errors of the ensemble (``err``) and of one network (``err1``); ``training_cost``: CPU
    seconds of the data and the training, for the break-even."""
    from flowlearn.evaluation import chemistry as ev

    rng = np.random.default_rng(config.seed)
    states, _ = pairs(ds, test_idx)
    kind = ds["kind"].values[test_idx].reshape(-1)
    manifold = states[kind == 0]
    pick = rng.choice(len(manifold), min(config.speed_states, len(manifold)), replace=False)
    states = manifold[pick]
    k = min(config.speed_conditions, len(test.T0))
    cond = test.subset(k)
    sweep = ev.cantera_sweep(config.mechanism, states, config.dt, cond, progress=progress)
    out: dict[str, Any] = {"cantera": sweep, "conditions": k}
    for name, e, size in (("ensemble", err, None), ("one_network", err1, 1)):
        progress(f"network costs ({name.replace('_', ' ')})")
        costs = ev.network_costs(ens, states, size=size, conserve=config.conserve)
        net_err = float(np.mean(e["tau_error"][:k]))
        per_state = {
            b: ev.equal_accuracy(net_err, c, sweep["rows"], "per_state_mean_s", "stepped_tau_error")
            for b, c in costs.items()
        }
        # one ignition at a time (batch 1), as Cantera integrates one
        secs = []
        with ev.one_thread():
            for b in range(k):
                one = slice(b, b + 1)
                r = ev.rollout(
                    ens,
                    test.T0[one],
                    test.p[one],
                    test.Y0[one],
                    int(test.n_steps[b]),
                    config.dt,
                    size=size,
                    conserve=config.conserve,
                )
                secs.append(r.seconds)
        traj = ev.equal_accuracy(
            net_err,
            float(np.mean(secs)),
            sweep["rows"],
            "adaptive_seconds_per_ignition",
            "adaptive_tau_error",
        )
        eq = per_state["1024"]
        out[name] = {
            "seconds_per_state": costs,
            "tau_error_mean": net_err,
            "per_state": per_state,
            "per_trajectory": traj,
            "break_even_states": ev.break_even(
                training_cost, eq["cantera_seconds"], eq["network_seconds"]
            ),
        }
    out["training_cost_seconds"] = training_cost
    return out


def targets(m: dict[str, Any]) -> dict[str, bool]:
    sp = m["speed"]["ensemble"]
    b1024 = sp["per_state"]["1024"]
    best = max(
        (m["speed"][n]["per_state"]["1024"] for n in ("ensemble", "one_network")),
        key=lambda r: r["speedup"] or 0.0,
    )
    return {
        "ignition_delay_5pct": bool(m["rollout"]["ensemble"]["tau_error"]["mean"] <= TAU_TARGET),
        "speed_100x_batch1024_strict": bool(b1024["naive_speedup"] >= 100),
        "moonshot_1000x_at_1pct": bool(
            (best["speedup"] or 0.0) >= 1000 and best["network_error"] <= 0.01
        ),
    }


# --------------------------------------------------------------------------------- claims
def _f(x: Any) -> float:
    """A metric as a float: metrics.json writes infinities as "inf" and NaN as null."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _pct(x: Any) -> str:
    v = _f(x)
    return f"{100 * v:.2f} %" if math.isfinite(v) else ("no ignition" if v > 0 else "n/a")


def _conservation(rollout: dict[str, Any]) -> str:
    for key, word in (("conservation_off", "without"), ("conservation_on", "with")):
        if key in rollout:
            r, ens = rollout[key], rollout["ensemble"]
            return (
                f"; {word} element and enthalpy conservation: {_pct(r['tau_error']['mean'])}, "
                f"final temperature off by {_f(r['final_T_error_K']):.1f} K (as run: "
                f"{_f(ens['final_T_error_K']):.1f} K)"
            )
    return ""


def _speedup(eq: dict[str, Any], who: str) -> str:
    if eq.get("speedup") is None:
        return (f"none for {who} ({_pct(eq['network_error'])}: less accurate than every "
                "Cantera setting)")  # fmt: skip
    return (f"x{_f(eq['speedup']):,.1f} for {who} ({_pct(eq['network_error'])}, against "
            f"{eq['setting']})")  # fmt: skip


def claims(config: Config, metrics: dict[str, Any]) -> list[Claim]:
    sp = metrics["speed"]
    eq = sp["ensemble"]["per_state"]["1024"]
    eq1 = sp["one_network"]["per_state"]["1024"]
    tr = sp["ensemble"]["per_trajectory"]
    be = _f(sp["ensemble"]["break_even_states"])
    mech = metrics["mechanism"]
    best = max(_f(eq.get("speedup")) if eq.get("speedup") is not None else 0.0,
               _f(eq1.get("speedup")) if eq1.get("speedup") is not None else 0.0)  # fmt: skip
    roll = metrics["rollout"]["ensemble"]["tau_error"]
    hybrid = metrics["hybrid"]
    per_ignition = (
        f"x{_f(tr['speedup']):,.2f}" if tr.get("speedup") is not None else "none (less accurate)"
    )
    return [
        Claim(
            slide="Chemistry: reduced cost of chemical computation by 100",
            talk="x100",
            measured=f"{mech}, one core each, batch 1,024: naive x{_f(eq['naive_speedup']):,.0f} "
            f"against strict tolerances; at equal ignition-delay error "
            f"{_speedup(eq, 'the ensemble')} and {_speedup(eq1, 'one network')}; per ignition "
            f"against Cantera's adaptive integration {per_ignition} (naive "
            f"x{_f(tr['naive_speedup']):,.2f}); break-even after "
            + (f"{be:,.0f} states" if math.isfinite(be) else "never (no saving at equal accuracy)"),
            reproduced=bool(best >= 100),
            reason="reproduced when a network is at least 100 times cheaper per state than the "
            "cheapest Cantera setting whose ignition-delay error is no larger, both on one "
            "core; a network less accurate than every Cantera setting has no speed-up at equal "
            "accuracy (the talk's figure, like most x100 claims, compares a GPU network with "
            "CPU integration at strict tolerances: that is the naive ratio here).",
        ),
        Claim(
            slide="Chemistry: a network replaces the integrator",
            talk="ignition delay within 5 % on held-out conditions",
            measured=f"{mech}, {metrics['trajectories']['test']} held-out ignitions: mean "
            f"ignition-delay error {_pct(roll['mean'])} (median {_pct(roll['median'])}, max "
            f"{_pct(roll['max'])}, {100 * _f(roll['failed']):.0f} % never ignite); hybrid on "
            f"{hybrid.get('ignitions', '?')} of them {_pct(hybrid['tau_error']['mean'])} with "
            f"{100 * _f(hybrid['fallback_share']):.1f} % of states on Cantera"
            + _conservation(metrics["rollout"]),
            reproduced=bool(_f(roll["mean"]) <= TAU_TARGET),
            reason="the issue's target: mean ignition-delay error at most 5 % over held-out "
            "conditions when the ensemble is rolled out alone from the unburnt mixture.",
        ),
    ]


def check(config: Config) -> None:
    """Refuse, before a run directory is made, a machine without Cantera."""
    try:
        chem.require_cantera()
    except ImportError as exc:
        raise ValueError(str(exc)) from None


EXPERIMENT = Experiment(
    name="chemistry",
    title="Chemistry: a network replacing stiff chemical integration, against Cantera",
    claim="A network reduces the cost of chemical computation by 100.",
    order=240,
    config=Config,
    run=run,
    check=check,
    quick={
        "trajectories": 60,
        "states": 60,
        "epochs": 200,
        "batch_size": 256,
        "members": 2,
        "extrapolation": 4,
        "speed_states": 60,
        "speed_conditions": 2,
        "width": 64,
    },
    # measured on 2 CPU cores: quick 34 s (h2o2, data made); full 3.7 min (h2o2), 20 min (gri30)
    runtime_quick="~35 s",
    runtime_full="~4 min (h2o2); ~20 min with --set mechanism=gri30",
    claims=claims,
)


# ------------------------------------------------------------------------- using a run
class TrainedChemistry:
    """A chemistry run's ensemble read back from its directory: ``ensemble``, ``config``, the
    hybrid ``threshold`` chosen on validation data, the trained ``ranges`` (T0 K, p atm, phi)."""

    def __init__(self, run_dir: str | Path) -> None:
        from flowlearn.experiments._runs import load_run
        from flowlearn.training.chemistry import load_ensemble

        run = load_run(Path(run_dir))
        if run.experiment != "chemistry":
            raise ValueError(f"{run_dir} is a {run.experiment} run, not a chemistry run")
        self.config = Config.model_validate(
            {k: v for k, v in run.config.items() if k != "experiment"}
        )
        c = self.config
        self.ensemble = load_ensemble(
            Path(run_dir) / "models",
            len(chem.species(c.mechanism)),
            c.width,
            c.depth,
            chem.element_matrix(c.mechanism)[1],
            chem.nasa7(c.mechanism),
        )
        self.threshold = float(run.metrics["hybrid"]["threshold"])
        self.ranges = {"T0": tuple(run.metrics["T0_range"]), "p": tuple(c.p), "phi": tuple(c.phi)}

    def outside(self, T0: float, p_atm: float, phi: float) -> list[str]:
        """The conditions outside the trained ranges, each as a sentence naming the range."""
        out = []
        units = {"T0": " K", "p": " atm", "phi": ""}
        for name, value in (("T0", T0), ("p", p_atm), ("phi", phi)):
            lo, hi = self.ranges[name]
            if not lo <= value <= hi:
                out.append(
                    f"{name} = {value:g}{units[name]} is outside the trained range "
                    f"{lo:g}-{hi:g}{units[name]}"
                )
        return out

    def integrate(self, T0: float, p: float, phi: float, hybrid: bool = False) -> dict[str, Any]:
        """One ignition (``T0`` K, ``p`` Pa, ``phi``) by the network (or the hybrid) against
        Cantera's: times, temperatures, delays and their error, fallback share, seconds."""
        from flowlearn.evaluation import chemistry as ev

        c = self.config
        Y0 = chem.initial_state(c.mechanism, T0, p, phi)
        start = time.perf_counter()
        ref = chem.ignition(c.mechanism, T0, p, phi)
        ref_s = time.perf_counter() - start
        n = math.ceil(ref.t[-1] / c.dt)
        fallback = ev.Fallback(self.threshold, chem.Reactor(c.mechanism)) if hybrid else None
        ro = ev.rollout(
            self.ensemble, [T0], [p], Y0[None], n, c.dt, conserve=c.conserve, fallback=fallback
        )
        t = np.arange(n + 1) * c.dt
        tau = chem.ignition_delay(t, ro.T[:, 0])
        return {
            "t": t,
            "T": ro.T[:, 0],
            "ref_t": ref.t,
            "ref_T": ref.T,
            "tau": tau,
            "tau_ref": ref.tau,
            "tau_error": abs(tau - ref.tau) / ref.tau,
            "T_final": float(ro.T[-1, 0]),
            "T_final_ref": float(ref.T[-1]),
            "fallback_share": ro.fallback_share,
            "seconds": ro.seconds,
            "cantera_seconds": ref_s,
            "steps": n,
        }


def bench(
    run_dir: str | Path, trained: TrainedChemistry, states: int, conditions: int, progress=_say
) -> dict[str, Any]:
    """:func:`speed` again for the run at ``run_dir`` on this machine (``flowlearn bench
    chemistry``): its test ignitions (the dataset is read from the cache, or made again),
    ``states`` states timed per setting, ``conditions`` ignitions."""
    from flowlearn.experiments._runs import load_run

    metrics = load_run(Path(run_dir)).metrics
    c = trained.config.model_copy(update={"speed_states": states, "speed_conditions": conditions})
    progress("reading the run's data (made again if it is not cached)")
    ds = _dataset("main", specs(c)["main"], c)
    idx = split(c.trajectories, c)["test"]
    test = Ignitions(ds, idx, c.mechanism, c.dt)
    first = Ignitions(ds, idx[:conditions], c.mechanism, c.dt)
    _, elements = chem.element_matrix(c.mechanism)
    progress("rolling the networks out")
    _, err = _roll(trained.ensemble, first, c, elements)
    _, err1 = _roll(trained.ensemble, first, c, elements, size=1)
    cost = float(metrics["data_cpu_seconds"]) + float(metrics["train_seconds"])
    return speed(trained.ensemble, ds, idx, test, err, err1, c, cost, progress)
