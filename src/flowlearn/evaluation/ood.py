"""Is a body out of the surrogate's reach? An error model, an out-of-distribution score and
its calibrated warning.

The evidence of one prediction, all of it available at prediction time:

- **the shape**: descriptors of the body as the solver sees it (:func:`shape_descriptors`: its
  size, aspect, number of bodies, solidity, compactness, place in the channel), and their mean
  distance to the ``k`` nearest training bodies (standardised on the training split);
- **the flow**: the Reynolds number over the largest trained one;
- **the ensemble** (two members or more): its disagreement, the members' velocity spread
  relative to the predicted speed over the fluid, next to the body, and at its 95th
  percentile (:func:`spread_features`).

:meth:`OODDetector.fit` learns how these predict the log of the relative velocity error with a
ridge regression on the training split (its samples' errors are smaller than unseen ones', but
what ranks them is what matters); :meth:`OODDetector.calibrate` sets the warning threshold at
the ``quantile`` (95 %) of the predicted error over the validation split, which neither the
networks nor the regression saw, so about 5 % of in-distribution bodies raise a false alarm.
The score is the predicted error over that threshold: a body is flagged above 1. How well the
flag predicts a large error is measured, not assumed: the flow-surrogate run reports its AUROC
for "error above the in-distribution 90th percentile" on the held-out families
(:func:`warning_reliability`), and ``flowlearn predict`` repeats it beside every warning.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError, cKDTree

#: Names of the columns of :func:`shape_descriptors`.
DESCRIPTORS = (
    "log_height",
    "log_length",
    "log_aspect",
    "log_area",
    "bodies",
    "solidity",
    "compactness",
    "centre_x",
    "centre_y",
)
#: File a flow-surrogate run stores its detector in, beside ``models/``.
OOD_FILE = "ood.json"


def _hull_area(cells: np.ndarray) -> float:
    """Area of the convex hull of the unit squares centred on ``cells`` ``(n, 2)``."""
    corners = (cells[:, None, :] + 0.5 * np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]])).reshape(
        -1, 2
    )
    try:
        return float(ConvexHull(corners).volume)
    except QhullError:  # pragma: no cover - four corners per cell are never degenerate
        return float(len(cells))


def shape_descriptors(mask: np.ndarray) -> np.ndarray:
    """Descriptors ``(N, len(DESCRIPTORS))`` of the solid masks ``(N, ny, nx)`` (or one
    ``(ny, nx)``): log cells across (height) and along (length) the channel, log aspect
    (length / height) and log area; the number of separate bodies (8-connected); solidity
    (area / convex hull area: 1 for a convex body, low for crescents and C shapes); compactness
    (solid-fluid faces / (4 sqrt(area)): 1 for a square, higher for teeth and thin parts); the
    centre of the solid cells in units of the channel's length and height (y from mid-channel).
    Raises ``ValueError`` for a mask without a solid cell."""
    m = np.asarray(mask, dtype=bool)
    if m.ndim == 2:
        m = m[None]
    if m.ndim != 3:
        raise ValueError(f"masks must be (N, ny, nx) or (ny, nx), got shape {m.shape}")
    empty = np.flatnonzero(~m.any(axis=(1, 2)))
    if empty.size:
        raise ValueError(f"mask(s) {empty[:5].tolist()} have no solid cell: no body to describe")
    ny, nx = m.shape[1:]
    out = np.empty((len(m), len(DESCRIPTORS)))
    eight = np.ones((3, 3), dtype=bool)
    for i, body in enumerate(m):
        rows, cols = np.nonzero(body)
        height = rows.max() - rows.min() + 1
        length = cols.max() - cols.min() + 1
        area = len(rows)
        faces = np.count_nonzero(np.diff(np.pad(body, 1).astype(np.int8), axis=0)) + (
            np.count_nonzero(np.diff(np.pad(body, 1).astype(np.int8), axis=1))
        )
        out[i] = (
            np.log(height),
            np.log(length),
            np.log(length / height),
            np.log(area),
            ndimage.label(body, structure=eight)[1],
            area / _hull_area(np.stack([cols, rows], axis=1).astype(float)),
            faces / (4.0 * np.sqrt(area)),
            (cols.mean() + 0.5) / nx,
            (rows.mean() + 0.5 - ny / 2) / ny,
        )
    return out


class Bodies(NamedTuple):
    """The inputs of ``N`` predictions: solid ``mask`` and ``sdf`` ``(N, ny, nx)``, ``re (N,)``."""

    mask: np.ndarray
    sdf: np.ndarray
    re: np.ndarray


def relative_spread(spread: np.ndarray, fields: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per sample ``(N,)``: the ensemble's mean velocity spread over the fluid, over the mean
    predicted speed there: the same ratio as the relative velocity error, with the spread in
    place of the error. ``spread`` and ``fields`` ``(N, 3, ny, nx)``, ``mask (N, ny, nx)``."""
    return spread_features(spread, fields, Bodies(mask, np.ones(np.shape(mask)), None))[:, 0]


#: Names of the columns of :func:`spread_features` (natural logs).
SPREAD_FEATURES = ("log_spread", "log_spread_near_body", "log_spread_p95")


def spread_features(spread: np.ndarray, fields: np.ndarray, bodies: Bodies) -> np.ndarray:
    """``(N, 3)``: the velocity spread ``|(sigma_u, sigma_v)|`` relative to the mean predicted
    speed over the fluid, averaged over the fluid, over the fluid cells within 3 cells of the
    body (the whole fluid if none), and its 95th percentile over the fluid; the first column
    is :func:`relative_spread` itself, the others are their logs."""
    fluid = ~np.asarray(bodies.mask, dtype=bool)
    near = fluid & (np.asarray(bodies.sdf) < 3.0)
    s = np.hypot(spread[:, 0], spread[:, 1])
    speed = np.hypot(fields[:, 0], fields[:, 1])
    out = np.empty((len(s), 3))
    for i in range(len(s)):
        scale = max(float(speed[i][fluid[i]].mean()), 1e-12)
        close = near[i] if near[i].any() else fluid[i]
        out[i] = (
            s[i][fluid[i]].mean() / scale,
            np.log(max(s[i][close].mean() / scale, 1e-9)),
            np.log(max(np.quantile(s[i][fluid[i]], 0.95) / scale, 1e-9)),
        )
    return out


@dataclass
class OODDetector:
    """The training bodies' standardised descriptors, the error model (ridge coefficients on
    standardised features, :meth:`fit`) and the warning threshold (:meth:`calibrate`)."""

    mean: list[float]
    std: list[float]
    train: list[list[float]]
    re_max: float
    uses_spread: bool
    feature_mean: list[float]
    feature_std: list[float]
    coef: list[float]
    intercept: float
    k: int = 5
    quantile: float = 0.95
    threshold: float | None = None
    calibration: dict[str, Any] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        names = [*DESCRIPTORS, "log_shape_distance", "re_over_max"]
        return names + list(SPREAD_FEATURES) if self.uses_spread else names

    def shape_score(self, mask: np.ndarray, *, exclude_self: bool = False) -> np.ndarray:
        """Mean distance ``(N,)`` to the ``k`` nearest training bodies, in standard units
        (``exclude_self``: the bodies are the training bodies, each not its own neighbour)."""
        z = (shape_descriptors(mask) - np.asarray(self.mean)) / np.asarray(self.std)
        k = self.k + int(exclude_self)
        dist, _ = cKDTree(np.asarray(self.train)).query(z, k=k)
        return dist.reshape(len(z), -1)[:, int(exclude_self) :].mean(axis=1)

    def features(
        self, bodies: Bodies, fields: np.ndarray, spread: np.ndarray | None, *, training=False
    ) -> np.ndarray:
        """The error model's features ``(N, F)`` of predictions ``fields`` / ``spread``
        ``(N, 3, ny, nx)`` for ``bodies`` (spread ignored unless the model uses it)."""
        shape = self.shape_score(bodies.mask, exclude_self=training)
        z = (shape_descriptors(bodies.mask) - np.asarray(self.mean)) / np.asarray(self.std)
        re = np.broadcast_to(np.asarray(bodies.re, dtype=float), (len(z),)) / self.re_max
        cols = [z, np.log(shape + 1e-3)[:, None], re[:, None]]
        if self.uses_spread:
            if spread is None:
                raise ValueError("this detector reads the ensemble's spread: pass it")
            f = spread_features(spread, fields, bodies)
            cols.append(np.column_stack([np.log(np.maximum(f[:, 0], 1e-9)), f[:, 1:]]))
        return np.column_stack(cols)

    @classmethod
    def fit(
        cls,
        bodies: Bodies,
        fields: np.ndarray,
        spread: np.ndarray | None,
        error: np.ndarray,
        *,
        k: int = 5,
        alpha: float = 1.0,
        quantile: float = 0.95,
    ) -> OODDetector:
        """Learn the error model on the training split: ``bodies``, the surrogate's
        ``fields`` and ``spread`` for them (None for a single member) and its relative
        velocity ``error (N,)``; ridge regression of ``log(error)`` with penalty ``alpha`` on
        standardised features."""
        d = shape_descriptors(bodies.mask)
        if len(d) <= k + 1:
            raise ValueError(f"{len(d)} training bodies: the detector needs more than {k + 1}")
        mean, std = d.mean(axis=0), d.std(axis=0)
        std = np.where(std > 1e-9, std, 1.0)  # a constant descriptor (one body each) adds 0
        re_max = float(np.max(bodies.re))
        det = cls(
            mean.tolist(), std.tolist(), ((d - mean) / std).round(5).tolist(), re_max,
            spread is not None, [], [], [], 0.0, k, quantile,
        )  # fmt: skip
        x = det.features(bodies, fields, spread, training=True)
        f_mean, f_std = x.mean(axis=0), x.std(axis=0)
        f_std = np.where(f_std > 1e-9, f_std, 1.0)
        xs = (x - f_mean) / f_std
        y = np.log(np.maximum(np.asarray(error, dtype=float), 1e-9))
        coef = np.linalg.solve(xs.T @ xs + alpha * np.eye(xs.shape[1]), xs.T @ (y - y.mean()))
        det.feature_mean, det.feature_std = f_mean.tolist(), f_std.tolist()
        det.coef, det.intercept = coef.tolist(), float(y.mean())
        return det

    def log_error(self, bodies: Bodies, fields: np.ndarray, spread: np.ndarray | None):
        """The error model's log relative velocity error ``(N,)`` (ranks, not a promise: it
        was fitted on training samples, whose errors run lower than unseen ones')."""
        x = self.features(bodies, fields, spread)
        xs = (x - np.asarray(self.feature_mean)) / np.asarray(self.feature_std)
        return xs @ np.asarray(self.coef) + self.intercept

    def calibrate(
        self, bodies: Bodies, fields: np.ndarray, spread: np.ndarray | None
    ) -> OODDetector:
        """The threshold: the :attr:`quantile` of the predicted log error over unseen
        in-distribution bodies (the validation split)."""
        pred = self.log_error(bodies, fields, spread)
        self.threshold = float(np.quantile(pred, self.quantile))
        self.calibration = {"samples": len(pred), "split": "validation"}
        return self

    def score(self, bodies: Bodies, fields: np.ndarray, spread: np.ndarray | None) -> np.ndarray:
        """Predicted error over the threshold ``(N,)``: above 1 warns."""
        if self.threshold is None:
            raise ValueError("the detector is not calibrated: call calibrate() first")
        return np.exp(self.log_error(bodies, fields, spread) - self.threshold)

    def unusual(self, mask: np.ndarray, low: float = 0.0, high: float = 100.0) -> list[str]:
        """What sets one body ``(ny, nx)`` apart: each descriptor outside the ``low``-``high``
        percentiles of the training bodies (default: their whole range), as "solidity 0.52
        (training 0.71-1.00)"."""
        x = shape_descriptors(mask)[0]
        train = np.asarray(self.train) * np.asarray(self.std) + np.asarray(self.mean)
        lo, hi = np.percentile(train, [low, high], axis=0)
        tol = 1e-5 * np.asarray(self.std)  # the rounding of the stored z (5 decimals)
        lo, hi = lo - tol, hi + tol
        out = []
        for name, v, a, b in zip(DESCRIPTORS, x, lo, hi, strict=True):
            if a <= v <= b:
                continue
            if name.startswith("log_"):
                name, v, a, b = name[4:], *np.exp([v, a, b])
            out.append(f"{name.replace('_', ' ')} {v:.3g} (training {a:.3g}-{b:.3g})")
        return out

    def to_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self)))

    @classmethod
    def from_json(cls, path: str | Path) -> OODDetector:
        """Read :meth:`to_json`; ``ValueError`` naming the file if it is not a detector."""
        try:
            data = json.loads(Path(path).read_text())
            detector = cls(**data)
            z = np.asarray(detector.train, dtype=float)
            n = len(detector.feature_names)
            ok = (
                z.ndim == 2
                and z.shape[1] == len(DESCRIPTORS) == len(detector.mean)
                and len(detector.coef) == len(detector.feature_mean) == n
            )
        except (OSError, ValueError, TypeError) as exc:
            raise ValueError(f"{path}: not an out-of-distribution detector ({exc})") from None
        if not ok or detector.threshold is None:
            raise ValueError(f"{path}: not a calibrated out-of-distribution detector")
        return detector


def auroc(score: np.ndarray, positive: np.ndarray) -> float | None:
    """Area under the ROC curve of ``score`` for the boolean ``positive``; None when one class
    is empty (no ranking to judge)."""
    from sklearn.metrics import roc_auc_score

    positive = np.asarray(positive, dtype=bool)
    if positive.all() or not positive.any():
        return None
    return float(roc_auc_score(positive, score))


def warning_reliability(
    detector: OODDetector,
    bodies: Bodies,
    fields: np.ndarray,
    spread: np.ndarray | None,
    error: np.ndarray,
    large: float,
) -> dict[str, Any]:
    """How well the warning predicts an error above ``large`` (the in-distribution 90th
    percentile) on ``bodies`` with their true ``error (N,)``: the AUROC of the score and, for
    comparison, of the shape distance alone and of the relative spread alone; the flag's
    recall, precision and rate at its threshold."""
    positive = np.asarray(error) > large
    score = detector.score(bodies, fields, spread)
    flagged = score > 1.0
    return {
        "samples": len(positive),
        "large_error": float(large),
        "large_fraction": float(positive.mean()),
        "auroc": auroc(score, positive),
        "auroc_shape": auroc(detector.shape_score(bodies.mask), positive),
        "auroc_spread": None
        if spread is None
        else auroc(relative_spread(spread, fields, bodies.mask), positive),
        "flagged_fraction": float(flagged.mean()),
        "recall": float(flagged[positive].mean()) if positive.any() else None,
        "precision": float(positive[flagged].mean()) if flagged.any() else None,
    }
