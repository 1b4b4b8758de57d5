"""Scoring turbulence closures against DNS anisotropy: per-component errors, realizability, the
duct's secondary-flow driver, and whether a difference between two models beats the seed noise.

RMSE conventions: per component, over a flow's evaluated cells; a model's error on a flow is the
root of the mean of its six squared per-component errors (b11 b12 b13 b22 b23 b33, each
independent component once); on a set of flows, the mean of the flows' errors, each flow
weighted equally (so the largest duct does not decide alone).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from flowlearn.physics import turbulence as turb


def component_rmse(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """RMSE of each independent component and ``"all"`` (module docstring)."""
    if pred.shape != true.shape or pred.shape[-2:] != (3, 3):
        raise ValueError(f"b of matching shapes (n, 3, 3) expected, got {pred.shape}, {true.shape}")
    err = turb.components(pred) - turb.components(true)
    per = np.sqrt(np.mean(err**2, 0))
    out = dict(zip(turb.COMPONENT_NAMES, (float(v) for v in per), strict=True))
    out["all"] = float(np.sqrt(np.mean(per**2)))
    return out


def violations(b: np.ndarray, tol: float = 1e-6) -> float:
    """Share of cells whose b no positive semi-definite Reynolds stress can have."""
    return float(np.mean(~turb.realizable(b, tol))) if len(b) else 0.0


def secondary_driver(b: np.ndarray, cross: tuple[int, int] = (1, 2)) -> np.ndarray:
    """``b22 - b33`` of a duct whose cross-section is the (y, z) plane: the normal-stress
    difference whose gradients drive Prandtl's secondary flow of the second kind."""
    i, j = cross
    return b[..., i, i] - b[..., j, j]


def driver_scores(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """RMSE and correlation of the predicted ``b22 - b33`` with the DNS's (correlation 0 for a
    model that predicts none, such as LEVM)."""
    p, t = secondary_driver(pred), secondary_driver(true)
    corr = float(np.corrcoef(p, t)[0, 1]) if np.std(p) > 1e-12 and np.std(t) > 1e-12 else 0.0
    return {"rmse": float(np.sqrt(np.mean((p - t) ** 2))), "corr": corr}


def score(pred: np.ndarray, true: np.ndarray, duct: bool = False) -> dict[str, Any]:
    """Everything measured of one model's b on one flow."""
    out: dict[str, Any] = {
        "rmse": component_rmse(pred, true),
        "violations": violations(pred),
    }
    if duct:
        out["driver"] = driver_scores(pred, true)
    return out


def flow_mean(per_flow: Mapping[str, float]) -> float:
    """The mean over flows, each weighted equally."""
    return float(np.mean(list(per_flow.values()))) if per_flow else float("nan")


def spread(values: Sequence[float]) -> dict[str, float]:
    """Mean, standard deviation, best and worst of the members' errors."""
    v = np.asarray(values, dtype=np.float64)
    return {
        "mean": float(v.mean()),
        "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
        "min": float(v.min()),
        "max": float(v.max()),
        "members": len(v),
    }


def beats(a: Mapping[str, float], b: Mapping[str, float]) -> bool:
    """Whether model a's error is below model b's beyond the seed noise: every member of a below
    every member of b (a's worst below b's best). A deterministic model is one member."""
    return bool(a["max"] < b["min"])


def ordering(errors: Mapping[str, Mapping[str, float]], names: Sequence[str]) -> bool:
    """Whether ``names`` (best first) are strictly ordered beyond the noise (:func:`beats`)."""
    return all(beats(errors[x], errors[y]) for x, y in itertools.pairwise(names))
