"""The surrogate's speed as McGreivy & Hakim (Nat. Mach. Intell. 2024) ask for it: against the
same LBM run more cheaply until it is as inaccurate, with the cost of the data and the training
counted, and the one speed-up that costs no accuracy, the prediction as the LBM's start.

One pass over a set of stored samples (:func:`measure`), sample after sample, interleaves

- **the classical cost-accuracy curve**: the dataset's LBM on coarser grids (the grid / 2,
  / 4: the body scaled, same Reynolds number, fields interpolated back to the reference grid),
  at larger lattice velocities (fewer steps per flow-through time, within the Mach limit) and
  stopped early (looser steady tolerances: one run records its state as the residual passes
  each). Its error is the networks' metric against the stored reference fields: the masked
  relative velocity error (mean and 95th percentile) and the drag error (the solver's own
  momentum exchange). A setting that the solver refuses, or that diverges or never gets
  steady, on a sample falls back to the reference recipe there: its time is the failed attempt
  plus the reference's, its error the reference's (zero, to round-off), and the fallbacks are
  counted;
- **the networks**, timed on this sample at batch 1 and on a batch of 64 bodies of the set,
  one measurement per sample, so both sides see the same moments of a shared machine;
- **warm starts**: steps and time to the dataset's steady tolerance (and a looser one) from
  the uniform start, from the LBM on the half grid run to steady state and interpolated up
  (the classical warm start), from each network's prediction, and from the reference fields
  themselves (the bound a perfect prediction would reach), each converged field compared
  with the uniform start's.

:func:`summarise` turns the records into the headline numbers: the LBM's Pareto front of
(median seconds, mean error), the speed-up at equal accuracy (log-log interpolation along the
front), the LBM's error at the network's cost, and the break-even number of predictions.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from flowlearn.data.flow_dataset import FlowDatasetSpec, FlowSamples, refine, sample_setup
from flowlearn.evaluation import flow_metrics as fm

if TYPE_CHECKING:
    from flowlearn.training.surrogate import FlowSurrogate

#: Grid coarsenings of the classical curve (the reference grid divided by each).
SCALES = (1, 2, 4)
#: Lattice velocities of the classical curve, as multiples of the dataset's.
SPEED_FACTORS = (1.0, 2.0, 3.0)
#: Looser steady tolerances of the classical curve (the dataset's own is added).
LOOSE_TOLS = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6)
#: The looser tolerance the warm starts are reported at, beside the dataset's.
WARM_LOOSE_TOL = 1e-6
#: Errors below this are drawn and interpolated at it (the reference recipe's own is 0).
ERROR_FLOOR = 1e-5
#: A warm start whose converged velocity differs from the uniform start's by more than this
#: (units of U, anywhere in the flow connected to the inlet) reached another steady state.
SAME_ANSWER = 1e-3


def connected_fluid(mask: np.ndarray) -> np.ndarray:
    """The fluid cells ``(ny, nx)`` connected to the inlet column (4-connectivity): fluid
    pockets enclosed by a scene of overlapping bodies keep whatever velocity they start with,
    so a comparison of starts leaves them out."""
    from scipy import ndimage

    labels, _ = ndimage.label(~np.asarray(mask, bool))
    inlet = set(np.unique(labels[:, 0]).tolist()) - {0}
    return np.isin(labels, list(inlet))


@dataclass(frozen=True)
class Setting:
    """One classical configuration: the grid divided by ``scale``, mean inlet velocity
    ``u_lattice`` (cells/step), stopped at steady tolerance ``tol``."""

    scale: int
    u_lattice: float
    tol: float

    @property
    def label(self) -> str:
        grid = "grid" if self.scale == 1 else f"grid/{self.scale}"
        return f"{grid}, U {self.u_lattice:g}, tol {self.tol:.0e}"

    def key(self) -> tuple[int, float, float]:
        return (self.scale, self.u_lattice, self.tol)


def settings(
    spec: FlowDatasetSpec,
    scales: Sequence[int] = SCALES,
    speed_factors: Sequence[float] = SPEED_FACTORS,
    tols: Sequence[float] = LOOSE_TOLS,
) -> list[Setting]:
    """Every configuration of the curve; the dataset's recipe is ``Setting(1, spec.u_lattice,
    spec.steady_tol)``."""
    all_tols = sorted({*(t for t in tols if t > spec.steady_tol), spec.steady_tol}, reverse=True)
    return [
        Setting(int(s), round(f * spec.u_lattice, 6), t)
        for s in scales
        for f in speed_factors
        for t in all_tols
    ]


def upsample(fields: np.ndarray, scale: int, shape: tuple[int, int]) -> np.ndarray:
    """Fields ``(C, ny/s, nx/s)`` of a grid ``scale`` times coarser, bilinearly interpolated
    to the cell centres of the ``shape = (ny, nx)`` grid (edges held)."""
    from scipy import ndimage

    if scale == 1:
        return np.asarray(fields)
    ny, nx = shape
    cy = (np.arange(ny) + 0.5) / scale - 0.5
    cx = (np.arange(nx) + 0.5) / scale - 0.5
    yy, xx = np.meshgrid(cy, cx, indexing="ij")
    return np.stack(
        [
            ndimage.map_coordinates(np.asarray(c, float), [yy, xx], order=1, mode="nearest")
            for c in fields
        ]
    )


def classical_run(
    spec: FlowDatasetSpec, shape, re: float, scale: int, u_lattice: float, tols: Sequence[float]
) -> dict[float, dict[str, Any]]:
    """The dataset's LBM for ``shape`` (cells of ``spec.grid``) at ``re`` on the grid divided by
    ``scale`` at lattice velocity ``u_lattice``, recording the state when the residual first
    falls below each of ``tols`` (the run stops at the smallest): ``{tol: {"fields" (on the
    reference grid), "cd", "steps", "seconds"}}``, the seconds from set-up on, the recording
    itself not counted. One OpenMP thread. Raises ``ShapeError`` / ``ValueError`` when the
    solver refuses the setting and ``DivergenceError`` when it blows up; a tolerance never
    reached is missing from the result."""
    from flowlearn.physics import geometry
    from flowlearn.physics.lbm import StabilityWarning, cases

    start = time.perf_counter()
    nx, ny = spec.grid
    grid = (nx // scale, ny // scale)
    if grid[0] * scale != nx or grid[1] * scale != ny:
        raise ValueError(f"grid {nx}x{ny} does not divide by {scale}")
    body = shape if scale == 1 else geometry.scaled(shape, 1.0 / scale)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StabilityWarning)
        case = cases.obstacle_channel(
            body, grid, re=re, u_lattice=u_lattice, dtype=spec.dtype, threads=1
        )
    pending = sorted(tols, reverse=True)
    out: dict[float, dict[str, Any]] = {}
    paused = [0.0]

    def record(solver, residual: float) -> None:
        while pending and residual < pending[0]:
            t0 = time.perf_counter()
            fields, _ = case.fields()
            cd = float(case.coefficients()["cd"])
            out[pending.pop(0)] = {
                "fields": fields,
                "cd": cd,
                "steps": solver.time,
                "seconds": t0 - start - paused[0],
            }
            paused[0] += time.perf_counter() - t0

    check = max(100, grid[0])
    max_steps = int(spec.max_flow_throughs * grid[0] / u_lattice)
    case.solver.run(
        max_steps, check_every=check, steady_tol=min(tols), min_steps=2 * check, callback=record
    )
    for r in out.values():  # the interpolation back to the reference grid is part of the cost
        t0 = time.perf_counter()
        r["fields"] = upsample(r["fields"], scale, (ny, nx))
        r["seconds"] += time.perf_counter() - t0
    return out


def _time_network(
    model: FlowSurrogate, sample: tuple, batch: tuple, batch_sizes: Sequence[int]
) -> dict[int, float]:
    """Seconds per sample of ``model.predict`` on one core: batch 1 on ``sample`` (best of
    3 calls after a warm-up) and at each larger batch size on ``batch`` (one call, after a
    warm-up)."""
    import torch

    from flowlearn.training.surrogate import ReynoldsRangeWarning

    out: dict[int, float] = {}
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore", ReynoldsRangeWarning)
        for b in batch_sizes:
            if b == 1:
                model.predict(*sample, batch_size=1)
                best = math.inf
                for _ in range(3):
                    t0 = time.perf_counter()
                    model.predict(*sample, batch_size=1)
                    best = min(best, time.perf_counter() - t0)
                out[1] = best
            else:
                xs = tuple(a[:b] for a in batch)
                model.predict(*xs, batch_size=b)
                t0 = time.perf_counter()
                model.predict(*xs, batch_size=b)
                out[b] = (time.perf_counter() - t0) / len(xs[0])
    return out


def measure(
    spec: FlowDatasetSpec,
    data: FlowSamples,
    positions: Sequence[int],
    networks: dict[str, FlowSurrogate],
    *,
    curve: Sequence[Setting] | None = None,
    batch_sizes: Sequence[int] = (1, 64),
    warm: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Interleaved measurements on the samples ``positions`` of ``data`` (stored samples of
    ``spec``): see the module's docstring. ``networks``: the models to time and warm-start
    from, by name, on the CPU. One core for everything (one OpenMP thread, one torch thread).

    Returns ``{"lbm": [per-sample records], "networks": {name: {"error", "p95", "cd_error",
    "seconds": {batch: [per sample]}}}, "warm": [per-sample records], "samples": n}``.
    """
    import torch

    from flowlearn.physics.geometry import ShapeError
    from flowlearn.physics.lbm import DivergenceError

    positions = [int(p) for p in positions]
    if not positions:
        raise ValueError("measure needs at least one sample")
    curve = list(curve) if curve is not None else settings(spec)
    runs: dict[tuple[int, float], list[float]] = {}
    for s in curve:
        runs.setdefault((s.scale, s.u_lattice), []).append(s.tol)
    sub = data.subset(np.asarray(positions))
    ny, nx = sub.mask.shape[1:]
    bmax = max(batch_sizes)
    take = np.arange(bmax) % len(data)
    big = (data.sdf[take], data.mask[take], data.re[take])
    preds = {name: net.predict(sub.sdf, sub.mask, sub.re).fields for name, net in networks.items()}
    net_seconds: dict[str, dict[int, list[float]]] = {
        name: {b: [] for b in batch_sizes} for name in networks
    }
    lbm: list[dict[str, Any]] = []
    warm_records: list[dict[str, Any]] = []
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        # kernels compiled, caches warm: one untimed run of each setting on the first body
        first_shape, _, first_re = sample_setup(spec, int(sub.index[0]))
        for (scale, u), tols in runs.items():
            try:
                classical_run(spec, first_shape, first_re, scale, u, tols)
            except (ShapeError, ValueError, DivergenceError):
                pass
        for k in range(len(sub)):
            shape, _, re = sample_setup(spec, int(sub.index[k]))
            truth, mask = sub.y[k : k + 1], sub.mask[k : k + 1]
            for (scale, u), tols in runs.items():
                t0 = time.perf_counter()
                try:
                    got = classical_run(spec, shape, re, scale, u, tols)
                    failure = ""
                except (ShapeError, ValueError) as exc:
                    got, failure = {}, f"refused: {exc}"
                except DivergenceError as exc:
                    got, failure = {}, f"diverged: {exc}"
                spent = time.perf_counter() - t0
                for tol in tols:
                    r = got.get(tol)
                    if r is None:
                        lbm.append(
                            {
                                "sample": k,
                                "scale": scale,
                                "u_lattice": u,
                                "tol": tol,
                                "failure": failure or "unsteady",
                                "seconds_spent": spent,
                            }
                        )
                        continue
                    lbm.append(
                        {
                            "sample": k,
                            "scale": scale,
                            "u_lattice": u,
                            "tol": tol,
                            "failure": "",
                            "error": float(
                                fm.relative_velocity_error(r["fields"][None], truth, mask)[0]
                            ),
                            "cd_error": float(
                                abs(r["cd"] - sub.cd[k]) / max(abs(sub.cd[k]), 1e-12)
                            ),
                            "seconds": r["seconds"],
                            "steps": int(r["steps"]),
                        }
                    )
            sample = (sub.sdf[k : k + 1], sub.mask[k : k + 1], sub.re[k : k + 1])
            rolled = tuple(np.roll(a, -k, axis=0) for a in big)
            for name, net in networks.items():
                for b, sec in _time_network(net, sample, rolled, batch_sizes).items():
                    net_seconds[name][b].append(sec)
            if warm:
                inference = {
                    n: net_seconds[n][1][-1] if 1 in net_seconds[n] else 0.0 for n in preds
                }
                warm_records.append(
                    _warm_starts(
                        spec, shape, re, sub.y[k], {n: p[k] for n, p in preds.items()}, inference
                    )
                )
            if progress is not None:
                progress(k + 1, len(sub))
    finally:
        torch.set_num_threads(previous)
    networks_out = {}
    for name, pred in preds.items():
        forces = fm.force_coefficients(pred, sub.mask, sub.re, sub.ref_length)
        err = fm.relative_velocity_error(pred, sub.y, sub.mask)
        networks_out[name] = {
            "error": err.tolist(),
            "cd_error": (
                np.abs(forces["cd"] - sub.cd) / np.maximum(np.abs(sub.cd), 1e-12)
            ).tolist(),
            "seconds": {str(b): v for b, v in net_seconds[name].items()},
        }
    return {
        "lbm": lbm,
        "networks": networks_out,
        "warm": warm_records,
        "samples": len(sub),
        "grid": [int(nx), int(ny)],
        "families": sorted(set(sub.family.tolist())),
    }


def _warm_starts(
    spec: FlowDatasetSpec,
    shape,
    re: float,
    reference: np.ndarray,
    guesses: dict[str, np.ndarray],
    inference_s: dict[str, float],
) -> dict[str, Any]:
    """Steps and seconds to ``spec.steady_tol`` (and :data:`WARM_LOOSE_TOL`) from each start:
    uniform, the half grid's steady state (its own run counted), each network's prediction
    (the equilibrium at its velocity and pressure; its batch-1 inference ``inference_s``
    counted), the
    reference fields through Mei's consistent start; the largest velocity difference of each
    converged field to the uniform start's (in U)."""
    from flowlearn.physics.geometry import ShapeError
    from flowlearn.physics.lbm import DivergenceError

    tols = (WARM_LOOSE_TOL, spec.steady_tol)
    out: dict[str, Any] = {}

    def record(name: str, r, extra_s: float = 0.0, extra_steps: int = 0) -> None:
        out[name] = {
            "steps": int(r.report.steps + r.start_steps + extra_steps),
            "start_steps": int(r.start_steps),
            "seconds": r.seconds + extra_s,
            "steady": bool(r.report.steady),
            "fallback": r.fallback,
            "loose_steps": int(r.crossings[tols[0]][0] + extra_steps)
            if tols[0] in r.crossings
            else None,
            "loose_seconds": r.crossings[tols[0]][1] + extra_s if tols[0] in r.crossings else None,
            "fields": r.fields,
        }

    cold = refine(spec, shape, re, None, tols=tols)
    record("uniform", cold)
    # how far each start is from the answer: the relative velocity error of its initial field
    truth, mask = reference[None], cold.mask[None]
    start_fields = {"uniform": _uniform_start(spec, shape, re), **guesses}
    start_fields["reference (Mei)"] = reference
    try:
        t0 = time.perf_counter()
        half = classical_run(spec, shape, re, 2, spec.u_lattice, (spec.steady_tol,))
        spent = time.perf_counter() - t0
        if spec.steady_tol in half:
            h = half[spec.steady_tol]
            record("half grid", refine(spec, shape, re, h["fields"], tols=tols), spent, 0)
            out["half grid"]["coarse_steps"] = int(h["steps"])
    except (ShapeError, ValueError, DivergenceError):
        pass  # no classical warm start on a grid that cannot hold the body: counted as missing
    for name, guess in guesses.items():
        record(name, refine(spec, shape, re, guess, tols=tols), inference_s.get(name, 0.0))
    record("reference (Mei)", refine(spec, shape, re, reference, start="mei", tols=tols))
    for name, f in start_fields.items():
        if name in out:
            out[name]["start_error"] = float(fm.relative_velocity_error(f[None], truth, mask)[0])
    if "half grid" in out:
        out["half grid"]["start_error"] = float(
            fm.relative_velocity_error(half[spec.steady_tol]["fields"][None], truth, mask)[0]
        )
    base = cold.fields[:2]
    fluid = connected_fluid(cold.mask)
    for rec in out.values():
        rec["max_difference"] = float(np.abs(rec.pop("fields")[:2] - base)[:, fluid].max())
    return out


def _uniform_start(spec: FlowDatasetSpec, shape, re: float) -> np.ndarray:
    """The dataset's uniform start (the inflow profile everywhere, zero in the body) as
    dimensionless fields."""
    from flowlearn.data.flow_dataset import steady_case
    from flowlearn.physics.lbm import StabilityWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StabilityWarning)
        fields, _ = steady_case(spec, shape, re).fields()
    return fields


# ------------------------------------------------------------------------------- summary
def _stats(values: Sequence[float]) -> dict[str, float]:
    v = np.asarray(values, float)
    return {
        "median": float(np.median(v)),
        "q25": float(np.quantile(v, 0.25)),
        "q75": float(np.quantile(v, 0.75)),
    }


def curve_rows(records: list[dict[str, Any]], samples: int) -> list[dict[str, Any]]:
    """One row per setting: mean and 95th-percentile error, median drag error, median seconds
    (and quartiles) per sample, fallbacks to the reference recipe counted and charged."""
    ref = {
        r["sample"]: r
        for r in records
        if not r["failure"]
        and r["scale"] == 1
        and r["tol"] == min(x["tol"] for x in records)
        and r["u_lattice"] == min(x["u_lattice"] for x in records)
    }
    rows = []
    keys = sorted({(r["scale"], r["u_lattice"], r["tol"]) for r in records})
    for key in keys:
        mine = [r for r in records if (r["scale"], r["u_lattice"], r["tol"]) == key]
        errors, cds, seconds, failures = [], [], [], {}
        for r in mine:
            if r["failure"]:
                kind = r["failure"].split(":")[0]
                failures[kind] = failures.get(kind, 0) + 1
                fallback = ref.get(r["sample"])  # the recipe's own figures on this sample
                errors.append(fallback["error"] if fallback else math.nan)
                cds.append(fallback["cd_error"] if fallback else math.nan)
                seconds.append(r["seconds_spent"] + (fallback["seconds"] if fallback else math.nan))
            else:
                errors.append(r["error"])
                cds.append(r["cd_error"])
                seconds.append(r["seconds"])
        if len(mine) != samples:
            continue
        ok = [r for r in mine if not r["failure"]]
        rows.append(
            {
                "scale": key[0],
                "u_lattice": key[1],
                "tol": key[2],
                "label": Setting(*key).label,
                "error_mean": float(np.mean(errors)),
                "error_p95": float(np.quantile(errors, 0.95)),
                "cd_error_median": float(np.median(cds)),
                "seconds": _stats(seconds),
                "steps_median": float(np.median([r["steps"] for r in ok])) if ok else None,
                "fallbacks": failures,
            }
        )
    return rows


def pareto(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows no other row beats on both median seconds and mean error, cheapest first."""
    front: list[dict[str, Any]] = []
    for r in sorted(rows, key=lambda r: (r["seconds"]["median"], r["error_mean"])):
        if not math.isfinite(r["seconds"]["median"]):
            continue
        if not front or r["error_mean"] < front[-1]["error_mean"]:
            front.append(r)
    return front


def _log(x: float) -> float:
    return math.log(max(x, ERROR_FLOOR))


def time_at_error(front: list[dict[str, Any]], error: float) -> dict[str, Any]:
    """The LBM's seconds at mean error ``error``: log-log interpolation between the two
    neighbouring points of the front. ``bound``: "interpolated"; "cheapest is more accurate"
    (no LBM setting is as inaccurate as ``error``: the cheapest one's time, so the speed-up
    is an upper bound); "none as accurate" (the most accurate setting's time, a lower
    bound)."""
    if error >= front[0]["error_mean"]:
        return {
            "seconds": front[0]["seconds"]["median"],
            "bound": "cheapest is more accurate",
            "setting": front[0]["label"],
        }
    for a, b in itertools.pairwise(front):
        if b["error_mean"] <= error:
            ta, tb = math.log(a["seconds"]["median"]), math.log(b["seconds"]["median"])
            ea, eb = _log(a["error_mean"]), _log(b["error_mean"])
            w = (_log(error) - ea) / (eb - ea) if eb != ea else 1.0
            return {
                "seconds": math.exp(ta + w * (tb - ta)),
                "bound": "interpolated",
                "setting": f"between {a['label']} and {b['label']}",
            }
    last = front[-1]
    return {
        "seconds": last["seconds"]["median"],
        "bound": "none as accurate",
        "setting": last["label"],
    }


def error_at_time(front: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """The LBM's mean error at a cost of ``seconds`` per sample along the front (log-log); None
    with a reason when no setting runs that fast."""
    if seconds < front[0]["seconds"]["median"]:
        return {
            "error": None,
            "reason": "no LBM setting runs that fast: the cheapest takes "
            f"{front[0]['seconds']['median']:.3g} s",
        }
    for a, b in itertools.pairwise(front):
        ta, tb = a["seconds"]["median"], b["seconds"]["median"]
        if ta <= seconds <= tb:
            w = (math.log(seconds) - math.log(ta)) / (math.log(tb) - math.log(ta)) if tb > ta else 1
            e = math.exp(
                _log(a["error_mean"]) + w * (_log(b["error_mean"]) - _log(a["error_mean"]))
            )
            return {"error": e, "reason": ""}
    return {"error": front[-1]["error_mean"], "reason": "the most accurate setting is cheaper"}


def summarise(
    measured: dict[str, Any], costs: dict[str, float] | None, data_seconds: float | None
) -> dict[str, Any]:
    """The headline numbers of :func:`measure`'s records. ``costs``: each network's training
    seconds (its members together); ``data_seconds``: the LBM seconds that made the training
    data (one core per sample, as the dataset stores them). Either None: the break-even is
    not computed (the costs are unknown)."""
    rows = curve_rows(measured["lbm"], measured["samples"])
    front = pareto(rows)
    nets: dict[str, Any] = {}
    for name, rec in measured["networks"].items():
        err = float(np.mean(rec["error"]))
        entry: dict[str, Any] = {
            "error_mean": err,
            "error_p95": float(np.quantile(rec["error"], 0.95)),
            "cd_error_median": float(np.median(rec["cd_error"])),
            "seconds": {b: _stats(v) for b, v in rec["seconds"].items()},
            "training_s": (costs or {}).get(name),
            "equal_accuracy": {},
            "lbm_error_at_equal_time": {},
            "break_even": {},
        }
        for b, st in entry["seconds"].items():
            t_net = st["median"]
            eq = time_at_error(front, err) if front else {"seconds": math.nan, "bound": "no LBM"}
            entry["equal_accuracy"][b] = {**eq, "speedup": eq["seconds"] / t_net}
            entry["lbm_error_at_equal_time"][b] = (
                error_at_time(front, t_net) if front else {"error": None, "reason": "no LBM"}
            )
            saving = eq["seconds"] - t_net
            known = costs is not None and data_seconds is not None and name in costs
            cost = (data_seconds + costs[name]) if known else math.nan
            entry["break_even"][b] = (
                {"predictions": None, "pays_off": None, "reason": "the run's costs are unknown"}
                if not known
                else {"predictions": cost / saving, "pays_off": True}
                if saving > 0
                else {
                    "predictions": None,
                    "pays_off": False,
                    "network_over_lbm": t_net / eq["seconds"],
                }
            )
        on_or_below = not any(
            r["seconds"]["median"] < entry["seconds"][max(entry["seconds"], key=int)]["median"]
            and r["error_mean"] < err
            for r in rows
        )
        entry["on_or_below_curve"] = bool(on_or_below)
        nets[name] = entry
    recipe = (1, min(r["u_lattice"] for r in rows), min(r["tol"] for r in rows)) if rows else None
    reference = [r for r in rows if (r["scale"], r["u_lattice"], r["tol"]) == recipe]
    return {
        "samples": measured["samples"],
        "families": measured.get("families", []),
        "lbm": rows,
        "front": [r["label"] for r in front],
        "reference_seconds": min((r["seconds"]["median"] for r in reference), default=None),
        # the recipe's whole-sample speed (set-up, run, fields): million lattice updates / s
        "reference_mlups": (
            reference[0]["steps_median"]
            * math.prod(measured["grid"])
            / reference[0]["seconds"]["median"]
            / 1e6
            if reference and reference[0]["steps_median"] and "grid" in measured
            else None
        ),
        "networks": nets,
        "data_seconds": data_seconds,
        "warm": summarise_warm(measured["warm"]) if measured.get("warm") else None,
    }


def break_even_phrase(be: dict[str, Any]) -> str:
    """One break-even entry of :func:`summarise` in words."""
    if be["pays_off"] is None:
        return "break-even unknown (no record of the run's costs)"
    if be["pays_off"]:
        return f"pays for its data and training after {be['predictions']:,.0f} predictions"
    return (
        f"never pays off (it is {be['network_over_lbm']:.2g}x slower than the equally accurate LBM)"
    )


def summarise_warm(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per start: median steps and seconds to the two tolerances, the median ratio of the
    uniform start's steps to its own (the speed-up in steps, per sample), fallbacks, and the
    largest difference of a converged field to the uniform start's."""
    names = list(dict.fromkeys(n for r in records for n in r))
    out: dict[str, Any] = {}
    for name in names:
        mine = [(r["uniform"], r[name]) for r in records if name in r]
        if not mine:
            continue
        ratio = [u["steps"] / max(m["steps"], 1) for u, m in mine]
        loose = [
            u["loose_steps"] / max(m["loose_steps"], 1)
            for u, m in mine
            if u["loose_steps"] and m["loose_steps"]
        ]
        time_ratio = [u["seconds"] / m["seconds"] for u, m in mine]
        out[name] = {
            "samples": len(mine),
            "steps_median": float(np.median([m["steps"] for _, m in mine])),
            "seconds_median": float(np.median([m["seconds"] for _, m in mine])),
            "step_ratio_median": float(np.median(ratio)),
            "time_ratio_median": float(np.median(time_ratio)),
            "loose_step_ratio_median": float(np.median(loose)) if loose else None,
            "start_steps_median": float(np.median([m["start_steps"] for _, m in mine])),
            "start_error_median": float(
                np.median([m.get("start_error", math.nan) for _, m in mine])
            ),
            "fallbacks": sum(bool(m["fallback"]) for _, m in mine),
            "unsteady": sum(not m["steady"] for _, m in mine),
            "max_difference": float(max(m["max_difference"] for _, m in mine)),
            "max_difference_median": float(np.median([m["max_difference"] for _, m in mine])),
            "other_answer": sum(m["max_difference"] > SAME_ANSWER for _, m in mine),
        }
    return out


def reference_samples(
    spec: FlowDatasetSpec, n: int, *, max_tries: int | None = None, progress=None
) -> FlowSamples:
    """``n`` steady samples of ``spec`` made now by the LBM (the dataset's recipe, one core
    each), in memory: the reference of :func:`measure` for a run whose data is not at hand.
    ``RuntimeError`` when fewer than ``n`` of ``max_tries`` (default ``2 n + 4``) are steady."""
    from flowlearn.data.flow_dataset import OK, compute_sample
    from flowlearn.data.flow_fields import make_inputs

    tries = max_tries if max_tries is not None else 2 * n + 4
    got = []
    for i in range(tries):
        s = compute_sample(spec, i, 1)
        if s.status == OK:
            got.append(s)
            if progress is not None:
                progress(len(got), n)
        if len(got) == n:
            break
    if len(got) < n:
        raise RuntimeError(f"only {len(got)} of {tries} LBM samples were steady; {n} needed")
    sdf = np.stack([s.sdf for s in got])
    mask = np.stack([s.mask for s in got])
    re = np.array([s.re for s in got])
    return FlowSamples(
        x=make_inputs(sdf, mask, re),
        y=np.stack([s.fields for s in got]).astype(np.float32),
        mask=mask.astype(bool),
        re=re,
        cd=np.array([s.scalars["cd"] for s in got]),
        cl=np.array([s.scalars["cl"] for s in got]),
        ref_length=np.array([s.scalars["ref_length"] for s in got]),
        family=np.array([s.family for s in got]),
        lbm_seconds=np.array([s.scalars["lbm_seconds"] for s in got]),
        steps=np.array([s.scalars["steps"] for s in got]),
        index=np.array([s.index for s in got]),
    )
