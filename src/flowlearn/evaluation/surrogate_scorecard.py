"""The scorecard of a trained flow surrogate: accuracy in and out of distribution, drag, physics,
trust and speed, as one typed result (:class:`Scorecard`) that the claims and the report read by
attribute.

:func:`score` measures everything on the test split (unseen shapes of the training families),
the held-out families, the Reynolds sweep and the LBM's own timing; :meth:`Scorecard.to_metrics`
is what ``metrics.json`` stores (flat keys, as earlier versions wrote them) and
:meth:`Scorecard.from_metrics` reads it back, refusing a metrics file that lacks a field.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.stats import spearmanr

from flowlearn.data.flow_dataset import FlowDatasetSpec, FlowSamples
from flowlearn.evaluation import cost_accuracy as ca
from flowlearn.evaluation import flow_metrics as fm
from flowlearn.evaluation.ood import Bodies, OODDetector, relative_spread, warning_reliability
from flowlearn.evaluation.surrogate_bench import time_surrogate

if TYPE_CHECKING:
    from flowlearn.training.surrogate import FlowSurrogate, Prediction

#: Guo et al. 2016: mean relative velocity error on unseen car profiles.
GUO_ERROR = (0.0198, 0.0269)
#: flowlearn's targets: the default run <= 5 % in distribution; one network >= 10x faster
#: than the LBM at equal accuracy (batch 64); the warm start >= 2x fewer steps than the uniform
#: start on the median test sample.
TARGET_DEFAULT_ERROR = 0.05
TARGET_EQUAL_ACCURACY_SPEEDUP = 10.0
TARGET_WARM_STEPS = 2.0
#: Generalisation targets of the default run: the mean over the held-out families, the worst
#: family, and the out-of-distribution warning's AUROC for an error above the in-distribution
#: 90th percentile.
TARGET_HELDOUT_MEAN = 0.035
TARGET_HELDOUT_FAMILY = 0.05
TARGET_OOD_AUROC = 0.85


@dataclass
class Evaluation:
    """One model on one set, per sample: the relative velocity ``error`` (and each member's),
    drag and lift from the predicted fields, the divergence and no-slip residuals, the
    per-channel MSE, and the prediction itself."""

    error: np.ndarray
    member_error: np.ndarray
    cd_pred: np.ndarray
    cl_pred: np.ndarray
    divergence: np.ndarray
    no_slip: np.ndarray
    channel_mse: dict[str, float]
    prediction: Prediction


def evaluate(surrogate: FlowSurrogate, data: FlowSamples) -> Evaluation:
    """Per-sample errors and coefficients of ``surrogate`` on ``data``."""
    pred = surrogate.predict(data.sdf, data.mask, data.re, keep_members=True)
    forces = fm.force_coefficients(pred.fields, data.mask, data.re, data.ref_length)
    return Evaluation(
        error=fm.relative_velocity_error(pred.fields, data.y, data.mask),
        member_error=np.stack(
            [fm.relative_velocity_error(m, data.y, data.mask) for m in pred.members]
        ),
        cd_pred=forces["cd"],
        cl_pred=forces["cl"],
        divergence=fm.divergence_residual(pred.fields, data.mask),
        no_slip=fm.no_slip_residual(pred.fields, data.mask),
        channel_mse=fm.channel_mse(pred.fields, data.y, data.mask),
        prediction=pred,
    )


def relative(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``|a - b| / |b|``, with ``b`` kept off zero."""
    return np.abs(a - b) / np.maximum(np.abs(b), 1e-12)


def family_means(values: np.ndarray, families: np.ndarray) -> dict[str, float]:
    """Mean of ``values`` per family, in the order the families first appear."""
    return {f: float(values[families == f].mean()) for f in dict.fromkeys(families)}


#: Prefixes of the fields that only some runs measure (baselines, the GPU).
_ABSENT_WHEN_NONE = ("guo", "speedup_guo", "surrogate_gpu", "speedup_gpu")


@dataclass
class Scorecard:
    """Everything a flow-surrogate run measured. Errors are fractions (0.0263 is 2.63 %);
    speed-ups and seconds are keyed by batch size ("1", "64"). Optional fields are None when
    the run did not measure them (no baseline, no Re sweep, no GPU)."""

    grid: list[int]
    samples: dict[str, int]
    ensemble: int
    # accuracy of the ensemble
    test_error: float
    test_error_median: float
    test_error_members: list[float]
    test_error_by_family: dict[str, float]
    heldout_error: float
    heldout_error_by_family: dict[str, float]
    heldout_error_family_mean: float
    test_channel_mse: dict[str, float]
    # drag from the predicted fields, median relative error, and the estimator's own bias
    cd_error_test: float
    cd_error_heldout: float
    cd_error_heldout_by_family: dict[str, float]
    cd_estimator_bias_test: float
    cd_estimator_bias_heldout: float
    # physics of the prediction
    divergence_pred: float
    divergence_lbm: float
    no_slip_pred: float
    # does the ensemble's spread rank the error? (None for a single member: no spread)
    spread_error_spearman_pixels: float | None
    spread_error_spearman_per_sample: float | None
    spread_error_spearman_samples: float | None
    # speed, one core each unless *_gpu
    lbm_seconds_per_sample: float
    lbm_threads: int | None
    torch_threads: int | None
    surrogate_seconds_per_sample: dict[str, float]
    single_model_seconds_per_sample: dict[str, float]
    speedup: dict[str, float]
    speedup_single_model: dict[str, float]
    # what the run cost
    generation_s: float
    training_s: float
    total_s: float
    epochs: dict[str, int]
    time_budget_scale: float | None
    datasets: dict[str, Any]
    targets: dict[str, bool]
    # the error against the Reynolds number (a sweep beyond the trained range)
    re_sweep_error_inside: float | None = None
    re_sweep_error_below: float | None = None
    re_sweep_error_above: float | None = None
    # the baselines: Guo et al.'s CNN on the same inputs, and on the shape alone
    guo_test_error: float | None = None
    guo_test_channel_mse: dict[str, float] | None = None
    guo_heldout_error_by_family: dict[str, float] | None = None
    guo_seconds_per_sample: dict[str, float] | None = None
    speedup_guo: dict[str, float] | None = None
    guo_shape_test_error: float | None = None
    guo_shape_test_channel_mse: dict[str, float] | None = None
    guo_shape_heldout_error_by_family: dict[str, float] | None = None
    # the out-of-distribution warning on the held-out samples (evaluation.ood)
    ood: dict[str, Any] | None = None
    # the speed at equal accuracy, the break-even and the warm starts (evaluation.cost_accuracy),
    # on the test split ("test") and the held-out families ("heldout")
    cost_accuracy: dict[str, Any] | None = None
    # the networks on the training GPU, when there was one
    surrogate_gpu_seconds_per_sample: dict[str, float] | None = None
    speedup_gpu: dict[str, float] | None = None
    guo_gpu_seconds_per_sample: dict[str, float] | None = None
    speedup_guo_gpu: dict[str, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_metrics(self) -> dict[str, Any]:
        """The flat ``metrics.json`` dict, ``extra`` merged; the fields of a model or a device
        the run did not have (a baseline, a GPU) are left out rather than written as null."""
        out = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name != "extra"
            and not (getattr(self, f.name) is None and f.name.startswith(_ABSENT_WHEN_NONE))
        }
        return {**out, **self.extra}

    @classmethod
    def from_metrics(cls, metrics: dict[str, Any]) -> Scorecard:
        """Read :meth:`to_metrics` back; a ``KeyError`` names the fields a metrics file lacks
        (a run of an older version, or not a flow-surrogate run)."""
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        required = {
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        }
        missing = sorted(required - set(metrics))
        if missing:
            raise KeyError(f"the metrics lack the scorecard's {', '.join(missing)}")
        return cls(
            **{k: v for k, v in metrics.items() if k in names},
            extra={k: v for k, v in metrics.items() if k not in names},
        )


def _baseline(prefix: str, test: Evaluation, heldout: Evaluation, data: FlowSamples) -> dict:
    return {
        f"{prefix}_test_error": float(test.error.mean()),
        f"{prefix}_test_channel_mse": test.channel_mse,
        f"{prefix}_heldout_error_by_family": family_means(heldout.error, data.family),
    }


def _speed(lbm: dict[str, Any], timed: dict[str, dict | None]) -> dict[str, Any]:
    """Seconds per sample and speed-up over the LBM, per batch size, of each timed model
    (``{name: time_surrogate result or None}``): ``<name>_seconds_per_sample`` and
    ``speedup`` / ``speedup_<suffix>``."""
    suffix = {
        "surrogate": "",
        "single_model": "_single_model",
        "guo": "_guo",
        "surrogate_gpu": "_gpu",
        "guo_gpu": "_guo_gpu",
    }
    out: dict[str, Any] = {
        "lbm_seconds_per_sample": lbm["mean_s"],
        "lbm_threads": lbm.get("threads"),
        "torch_threads": (timed.get("surrogate") or {}).get("torch_threads"),
    }
    for name, result in timed.items():
        if result is None:
            continue
        per = {str(b): s for b, s in result["per_sample_s"].items()}
        out[f"{name}_seconds_per_sample"] = per
        out[f"speedup{suffix[name]}"] = {b: lbm["mean_s"] / s for b, s in per.items()}
    return out


@dataclass
class ScoreInputs:
    """What :func:`score` measures: the ensemble and its baselines (by model name: "guo",
    "guo-shape"), the data sets, the trained Reynolds range, the dataset spec whose samples are
    timed with the LBM, and the run's own costs and history."""

    surrogate: FlowSurrogate
    baselines: dict[str, FlowSurrogate]
    test: FlowSamples
    heldout: FlowSamples
    sweep: FlowSamples | None
    re_range: tuple[float, float]
    timing_spec: FlowDatasetSpec
    heldout_spec: FlowDatasetSpec | None
    n_speed_samples: int
    device: str
    costs: dict[str, Any]
    datasets: dict[str, Any]
    histories: dict[str, list[dict[str, Any]]]
    train_samples: int = 0
    val_samples: int = 0
    detector: OODDetector | None = None
    #: LBM seconds that made the training data, one core per sample (the dataset's own record)
    data_seconds: float = 0.0
    #: training seconds per model name ("unet", "guo", ...), its members together
    training_seconds: dict[str, float] = field(default_factory=dict)
    warm_start: bool = True
    say: Any = None


def score(inputs: ScoreInputs) -> tuple[Scorecard, dict[str, np.ndarray]]:
    """Measure the surrogate (on its device; timed on one CPU core beside the LBM, and on the
    GPU as well when it trained there). Returns the scorecard and the arrays the report's
    figures are drawn from."""
    from flowlearn.training.surrogate import FlowSurrogate, ReynoldsRangeWarning

    s = inputs
    test, heldout, sweep = s.test, s.heldout, s.sweep
    ev_test, ev_held = evaluate(s.surrogate, test), evaluate(s.surrogate, heldout)
    ev_sweep = None
    if sweep is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ReynoldsRangeWarning)
            ev_sweep = evaluate(s.surrogate, sweep)
    baselines = {
        name: (evaluate(model, test), evaluate(model, heldout))
        for name, model in s.baselines.items()
    }
    # Drag: the same control-volume estimator on the LBM's fields, against the LBM's own
    # momentum exchange (the reference), says how much of the drag error is the estimator's.
    cv = {
        name: fm.force_coefficients(d.y, d.mask, d.re, d.ref_length)
        for name, d in (("test", test), ("heldout", heldout))
    }
    # Trust: does the ensemble's spread rank the error on held-out shapes? One member has
    # no spread: those figures are skipped rather than computed on a constant.
    speed_err = np.abs(ev_held.prediction.fields[:, :2] - heldout.y[:, :2])
    spread = ev_held.prediction.spread[:, :2]
    ensemble = len(s.surrogate.members) > 1
    held_spread = (
        relative_spread(ev_held.prediction.spread, ev_held.prediction.fields, heldout.mask)
        if ensemble
        else None
    )
    trust: dict[str, float | None] = dict.fromkeys(("pixels", "per_sample", "samples"), None)
    if ensemble:
        trust = {
            "pixels": float(fm.spread_error_spearman(spread, speed_err, heldout.mask)),
            "per_sample": float(
                np.nanmean(fm.per_sample_spearman(spread, speed_err, heldout.mask))
            ),
            "samples": float(spearmanr(held_spread, ev_held.error).statistic),
        }
    # Speed, same machine, same grid, one core each, interleaved sample by sample: the LBM at
    # the dataset's recipe and cheaper (coarser, faster, stopped early), the networks, and the
    # warm starts (evaluation.cost_accuracy).
    guo = s.baselines.get("guo")
    timed: dict[str, dict | None] = {}
    bodies = (test.sdf, test.mask, test.re)
    if s.device != "cpu":
        timed["surrogate_gpu"] = time_surrogate(s.surrogate, *bodies)
        timed["guo_gpu"] = time_surrogate(guo, *bodies) if guo else None
    for model in (s.surrogate, *s.baselines.values()):
        model.to("cpu")
    single = FlowSurrogate(s.surrogate.members[:1], s.surrogate.grid)
    networks = {"ensemble": s.surrogate, "one network": single}
    if guo is not None:
        networks["guo"] = guo
    arch = s.surrogate.members[0].architecture
    member_costs = {
        "ensemble": s.training_seconds.get(arch, 0.0),
        "one network": s.training_seconds.get(arch, 0.0) / max(len(s.surrogate.members), 1),
        "guo": s.training_seconds.get("guo", 0.0),
    }
    sets = {"test": (s.timing_spec, test)}
    if s.heldout_spec is not None:
        sets["heldout"] = (s.heldout_spec, heldout)
    speed: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    for name, (spec, data) in sets.items():
        positions = spread_positions(data.family, s.n_speed_samples)
        progress = None
        if s.say is not None:
            step = max(1, len(positions) // 4)

            def progress(done: int, total: int, name: str = name, step: int = step) -> None:
                if done % step == 0 or done == total:
                    s.say(f"  speed ({name}): {done}/{total} samples")

        raw[name] = ca.measure(
            spec, data, positions, networks, warm=s.warm_start, progress=progress
        )
        speed[name] = ca.summarise(raw[name], member_costs, s.data_seconds)
    head = speed["test"]
    reference = head["reference_seconds"]
    for key, net in (("surrogate", "ensemble"), ("single_model", "one network"), ("guo", "guo")):
        if net in head["networks"]:
            timed[key] = {
                "per_sample_s": {
                    b: st["median"] for b, st in head["networks"][net]["seconds"].items()
                },
                "torch_threads": 1,
            }
    lbm = {"mean_s": reference if reference is not None else math.nan, "threads": 1}

    lo, hi = s.re_range
    m: dict[str, Any] = {
        "grid": list(s.surrogate.grid),
        "samples": {
            "train": s.train_samples,
            "val": s.val_samples,
            "test": len(test),
            "heldout": len(heldout),
            "re_sweep": 0 if sweep is None else len(sweep),
        },
        "ensemble": len(s.surrogate.members),
        "datasets": s.datasets,
        "test_error": float(ev_test.error.mean()),
        "test_error_median": float(np.median(ev_test.error)),
        "test_error_members": [float(e.mean()) for e in ev_test.member_error],
        "test_error_by_family": family_means(ev_test.error, test.family),
        "heldout_error_by_family": family_means(ev_held.error, heldout.family),
        "heldout_error": float(ev_held.error.mean()),
        "heldout_error_family_mean": float(
            np.mean(list(family_means(ev_held.error, heldout.family).values()))
        ),
        "test_channel_mse": ev_test.channel_mse,
        "cd_error_test": float(np.median(relative(ev_test.cd_pred, test.cd))),
        "cd_error_heldout_by_family": family_means(
            relative(ev_held.cd_pred, heldout.cd), heldout.family
        ),
        "cd_error_heldout": float(np.median(relative(ev_held.cd_pred, heldout.cd))),
        "cd_estimator_bias_test": float(np.median(relative(cv["test"]["cd"], test.cd))),
        "cd_estimator_bias_heldout": float(np.median(relative(cv["heldout"]["cd"], heldout.cd))),
        "divergence_pred": float(ev_test.divergence.mean()),
        "divergence_lbm": float(fm.divergence_residual(test.y, test.mask).mean()),
        "no_slip_pred": float(ev_test.no_slip.mean()),
        **{f"spread_error_spearman_{k}": v for k, v in trust.items()},
        **_speed(lbm, timed),
        **s.costs,
        "cost_accuracy": speed,
    }
    if ev_sweep is not None and sweep is not None:
        for side, sel in (
            ("inside", (sweep.re >= lo) & (sweep.re <= hi)),
            ("below", sweep.re < lo),
            ("above", sweep.re > hi),
        ):
            m[f"re_sweep_error_{side}"] = float(ev_sweep.error[sel].mean()) if sel.any() else None
    for name, (b_test, b_held) in baselines.items():
        m.update(_baseline(name.replace("-", "_"), b_test, b_held, heldout))
    ood_score = None
    if s.detector is not None:  # large: above the in-distribution 90th percentile
        large = float(np.quantile(ev_test.error, 0.9))
        evidence = (
            Bodies(heldout.mask, heldout.sdf, heldout.re),
            ev_held.prediction.fields,
            ev_held.prediction.spread if ensemble else None,
        )
        m["ood"] = warning_reliability(s.detector, *evidence, ev_held.error, large)
        ood_score = s.detector.score(*evidence)
    m["targets"] = {
        "default_in_distribution_5pct": m["test_error"] <= TARGET_DEFAULT_ERROR,
        "in_distribution_2pct": m["test_error"] <= 0.02,
        "heldout_naca_2.69pct": m["heldout_error_by_family"].get("naca", np.inf) <= GUO_ERROR[1],
        "heldout_cd_5pct": m["cd_error_heldout"] <= 0.05,
        "heldout_family_mean_3.5pct": m["heldout_error_family_mean"] <= TARGET_HELDOUT_MEAN,
        "heldout_every_family_5pct": max(m["heldout_error_by_family"].values())
        <= TARGET_HELDOUT_FAMILY,
        "heldout_every_family_1.5pct": max(m["heldout_error_by_family"].values()) <= 0.015,
        "ood_auroc_0.85": ((m.get("ood") or {}).get("auroc") or 0.0) >= TARGET_OOD_AUROC,
        **speed_targets(speed["test"]),
    }
    arrays = _figure_arrays(s, ev_test, ev_held, ev_sweep, baselines.get("guo"), speed_err, spread)
    if ood_score is not None:
        arrays["heldout_ood_score"] = ood_score
    return Scorecard.from_metrics(m), arrays


def spread_positions(families: np.ndarray, n: int) -> np.ndarray:
    """``n`` positions of a set taken round-robin over its families in their stored order
    (every family as often as it can be), sorted."""
    families = np.asarray(families)
    queues = [list(np.flatnonzero(families == f)) for f in dict.fromkeys(families.tolist())]
    picks: list[int] = []
    while len(picks) < min(n, len(families)):
        for q in queues:
            if q and len(picks) < n:
                picks.append(int(q.pop(0)))
    return np.sort(np.array(picks, dtype=int))


def speed_targets(summary: dict[str, Any]) -> dict[str, bool]:
    """The speed targets on one set's :func:`~flowlearn.evaluation.cost_accuracy.summarise`:
    one network >= 10x at equal accuracy (batch 64), the ensemble on or below the LBM's
    cost-accuracy curve, the surrogate's warm start >= 2x fewer steps (median sample)."""
    nets = summary["networks"]
    best = max(
        (n["equal_accuracy"].get("64", {}).get("speedup", 0.0) for n in nets.values()),
        default=0.0,
    )
    warm = (summary.get("warm") or {}).get("ensemble") or {}
    return {
        "equal_accuracy_10x_one_network": bool(best >= TARGET_EQUAL_ACCURACY_SPEEDUP),
        "ensemble_on_or_below_lbm_curve": bool(
            nets.get("ensemble", {}).get("on_or_below_curve", False)
        ),
        "warm_start_2x_fewer_steps": bool(warm.get("step_ratio_median", 0.0) >= TARGET_WARM_STEPS),
    }


def _pick_examples(families: np.ndarray, errors: np.ndarray, per_family: int = 1) -> np.ndarray:
    """One median-error sample per family (a fair, not a flattering, example)."""
    picks = []
    for f in dict.fromkeys(families):
        idx = np.flatnonzero(families == f)
        order = idx[np.argsort(errors[idx])]
        picks.extend(order[len(order) // 2 : len(order) // 2 + per_family])
    return np.array(picks, dtype=int)


def _figure_arrays(
    s: ScoreInputs,
    ev_test: Evaluation,
    ev_held: Evaluation,
    ev_sweep: Evaluation | None,
    guo: tuple[Evaluation, Evaluation] | None,
    speed_err: np.ndarray,
    spread: np.ndarray,
) -> dict[str, np.ndarray]:
    test, heldout = s.test, s.heldout
    pred_test, pred_held = ev_test.prediction, ev_held.prediction
    a: dict[str, np.ndarray] = {}
    ti = _pick_examples(test.family, ev_test.error)[:3]
    hi = _pick_examples(heldout.family, ev_held.error)
    a["example_true"] = np.concatenate([test.y[ti], heldout.y[hi]]).astype(np.float32)
    a["example_pred"] = np.concatenate([pred_test.fields[ti], pred_held.fields[hi]]).astype(
        np.float32
    )
    a["example_spread"] = np.concatenate([pred_test.spread[ti], pred_held.spread[hi]]).astype(
        np.float32
    )
    a["example_mask"] = np.concatenate([test.mask[ti], heldout.mask[hi]])
    a["example_sdf"] = np.concatenate([test.sdf[ti], heldout.sdf[hi]]).astype(np.float32)
    a["example_re"] = np.concatenate([test.re[ti], heldout.re[hi]])
    a["example_error"] = np.concatenate([ev_test.error[ti], ev_held.error[hi]])
    a["example_label"] = np.array(
        [f"test: {f}" for f in test.family[ti]] + [f"held out: {f}" for f in heldout.family[hi]]
    )
    for k, (name, d, ev) in enumerate((("test", test, ev_test), ("heldout", heldout, ev_held))):
        a[f"{name}_error"] = ev.error
        a[f"{name}_family"] = d.family
        a[f"{name}_re"] = d.re
        a[f"{name}_cd_lbm"] = d.cd
        a[f"{name}_cd_pred"] = ev.cd_pred
        if guo is not None:
            a[f"{name}_guo_error"] = guo[k].error
    if ev_sweep is not None and s.sweep is not None:
        a["sweep_re"] = s.sweep.re
        a["sweep_error"] = ev_sweep.error
        a["re_range"] = np.array(s.re_range)
    # A pixel sample for the spread-vs-error scatter (fluid cells of the held-out shapes);
    # none for a single member, which has no spread.
    if len(s.surrogate.members) > 1:
        fluid = ~np.repeat(heldout.mask[:, None], 2, axis=1)
        sp, e = spread[fluid], speed_err[fluid]
        pick = np.random.default_rng(0).choice(len(sp), size=min(4000, len(sp)), replace=False)
        a["trust_spread"] = sp[pick].astype(np.float32)
        a["trust_error"] = e[pick].astype(np.float32)
    for name, hist in s.histories.items():
        a[f"curve_{name}_train"] = np.array([h["train_loss"] for h in hist], np.float32)
        a[f"curve_{name}_val"] = np.array([h["val_loss"] for h in hist], np.float32)
    return a
