"""Capacity sweeps: train and test error of a model family as its capacity grows.

The talk's ladder of models for ``y = 3 x^2`` and the under-/over-fitting curve: a polynomial
of order N = 0 .. n - 1 (:func:`polynomial_capacity_sweep`), a parametric law
``a x^b + c`` (:func:`fit_power_law`) and a tanh network of growing width
(:func:`fit_mlp_full_batch`, :func:`mlp_width_sweep`). Every sweep reports train *and* test error.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import OptimizeWarning, curve_fit

from flowlearn.baselines.polynomial import PolynomialRegression
from flowlearn.models.mlp import MLP


def mean_squared_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean of ``(y_true - y_pred)^2`` over all samples, in the squared units of ``y``."""
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has {y_pred.shape}")
    return float(np.mean((y_true - y_pred) ** 2))


@dataclass
class CapacityCurve:
    """Errors of one model family along its capacity axis.

    ``capacity``: ``(k,)`` the knob (polynomial order, network width); ``train_mse`` and
    ``test_mse``: ``(k,)``; ``predictions``: ``(k, n_grid)`` each model on the evaluation grid.
    """

    capacity: np.ndarray
    train_mse: np.ndarray
    test_mse: np.ndarray
    predictions: np.ndarray


def polynomial_capacity_sweep(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    degrees: Sequence[int],
    x_grid: np.ndarray,
) -> CapacityCurve:
    """Fit :class:`PolynomialRegression` of each order in ``degrees`` on the training set.

    All inputs are ``(n,)`` arrays; ``x_grid`` ``(n_grid,)`` is where the fitted curves are
    evaluated for the figures. Train error never increases with the order (nested least-squares
    problems), and reaches round-off level at order ``len(x_train) - 1`` (interpolation).
    """
    train, test, preds = [], [], []
    for degree in degrees:
        model = PolynomialRegression(degree=int(degree)).fit(x_train, y_train)
        train.append(mean_squared_error(y_train, model.predict(x_train)))
        test.append(mean_squared_error(y_test, model.predict(x_test)))
        preds.append(model.predict(x_grid))
    return CapacityCurve(
        capacity=np.asarray(degrees, dtype=int),
        train_mse=np.asarray(train),
        test_mse=np.asarray(test),
        predictions=np.asarray(preds),
    )


@dataclass
class PowerLaw:
    """``y = a x^b + c`` fitted by least squares; ``x`` must be >= 0 (``x^b`` for real b)."""

    a: float
    b: float
    c: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        return power_law(np.asarray(x, dtype=float), self.a, self.b, self.c)


def power_law(x: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    """``a x^b + c``, defined for ``x >= 0``."""
    return a * np.power(x, b) + c


#: exponent bounds of :func:`fit_power_law`: b > 0 keeps x^b finite at x = 0.
POWER_LAW_EXPONENT_BOUNDS = (0.05, 10.0)


def fit_power_law(x: np.ndarray, y: np.ndarray) -> PowerLaw:
    """Fit ``y = a x^b + c`` (the talk's "machine learning" rung) with scipy's ``curve_fit``.

    ``x`` ``(n,)`` must lie in ``x >= 0``: ``x^b`` with a real exponent has no real value for
    negative ``x``. The exponent is bounded to :data:`POWER_LAW_EXPONENT_BOUNDS`; the start is
    the straight line ``a = 1, b = 1, c = 0``, so nothing of the true law is given away.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if np.any(x < 0):
        raise ValueError(
            f"power law a x^b + c needs x >= 0, got min(x) = {x.min():.3g}: shift the x range"
        )
    if x.size < 3:
        raise ValueError(f"power law a x^b + c has 3 parameters: needs >= 3 points, got {x.size}")
    lo, hi = POWER_LAW_EXPONENT_BOUNDS
    with warnings.catch_warnings():
        # a covariance that cannot be estimated (exact data) does not matter: we use the fit only
        warnings.simplefilter("ignore", OptimizeWarning)
        params, _ = curve_fit(
            power_law,
            x,
            y,
            p0=(1.0, 1.0, 0.0),
            bounds=((-np.inf, lo, -np.inf), (np.inf, hi, np.inf)),
            maxfev=20_000,
        )
    return PowerLaw(*(float(p) for p in params))


def fit_mlp_full_batch(
    x_train: np.ndarray,
    y_train: np.ndarray,
    hidden: Sequence[int],
    steps: int,
    lr: float,
    seed: int,
    activation: str = "tanh",
    device: str = "cpu",
) -> tuple[MLP, Callable[[np.ndarray], np.ndarray]]:
    """Train an :class:`MLP` ``1 -> hidden -> 1`` on all points at once with Adam.

    Inputs and targets are standardised with the training mean and standard deviation (so the
    same ``lr`` suits any range of ``x`` and ``y``); computation is in float64, so a wide network
    can drive the training error down to the interpolation regime.

    Args:
        x_train, y_train: ``(n,)`` training points.
        hidden: hidden widths, e.g. ``(16,)`` for one layer of 16 tanh units.
        steps: Adam steps on the full batch; 1500-5000 for ~10 points (longer training keeps
            lowering the train error of wide networks, towards interpolation).
        lr: Adam learning rate; 1e-2 is a good start for standardised data.
        seed: seed of the weight initialisation (torch's generator is forked, so the caller's
            random state is left as it was).

    Returns the trained model and ``predict(x: (m,)) -> (m,)`` in the original units.
    """
    x_mean, x_std = float(np.mean(x_train)), float(np.std(x_train)) or 1.0
    y_mean, y_std = float(np.mean(y_train)), float(np.std(y_train)) or 1.0

    def to_tensor(v: np.ndarray, mean: float, std: float) -> torch.Tensor:
        v = (np.asarray(v, dtype=np.float64) - mean) / std
        return torch.as_tensor(v, dtype=torch.float64, device=device).reshape(-1, 1)

    # nn.Linear initialises from torch's global generator: seed it for this model only, and put
    # the caller's random state back afterwards
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = MLP(1, hidden=tuple(hidden), out_features=1, activation=activation).double()
    model.to(device)
    x = to_tensor(x_train, x_mean, x_std)
    y = to_tensor(y_train, y_mean, y_std)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        optimiser.zero_grad()
        loss = torch.mean((model(x) - y) ** 2)
        loss.backward()
        optimiser.step()
    model.eval()

    def predict(x_new: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = model(to_tensor(x_new, x_mean, x_std)).cpu().numpy()[:, 0]
        return out * y_std + y_mean

    return model, predict


def mlp_width_sweep(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    widths: Sequence[int],
    depth: int,
    steps: int,
    lr: float,
    seed: int,
    x_grid: np.ndarray,
    device: str = "cpu",
) -> CapacityCurve:
    """Train one tanh :class:`MLP` per width (``depth`` hidden layers of that width) and report
    its train and test error; the capacity axis is the width. Shapes as in
    :func:`polynomial_capacity_sweep`."""
    train, test, preds = [], [], []
    for width in widths:
        _, predict = fit_mlp_full_batch(
            x_train, y_train, (int(width),) * depth, steps=steps, lr=lr, seed=seed, device=device
        )
        train.append(mean_squared_error(y_train, predict(x_train)))
        test.append(mean_squared_error(y_test, predict(x_test)))
        preds.append(predict(x_grid))
    return CapacityCurve(
        capacity=np.asarray(widths, dtype=int),
        train_mse=np.asarray(train),
        test_mse=np.asarray(test),
        predictions=np.asarray(preds),
    )
