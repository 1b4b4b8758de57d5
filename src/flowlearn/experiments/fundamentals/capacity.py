"""Capacity: under-fitting, over-fitting and the optimum in between.

The slide's ladder fits noisy samples of the law ``y = 3 x^2`` three ways: *rule based* (the law
itself, nothing learned), *machine learning* (``y = a x^b + c``, three parameters learned) and
*representation learning* (``y = sum_i a_i x^i``, the order N is the capacity). Polynomials of
order N = 0 .. n - 1 then give the classic curve: training error falls with N, test error falls
(under-fitting) then rises (over-fitting), with its optimum at the true order 2. A tanh network
of growing width is put through the same sweep, and the run says what shape its curve takes.

Data: ``n_points`` training points with ``x`` uniform in ``[x_min, x_max]`` and
``y = 3 x^2 + noise``, drawn ``n_datasets`` times; one test set of ``n_test`` points from the
same distribution. Curves are medians over the draws (one unlucky draw of clustered points can
give an interpolant 10^6 times off, which would swamp a mean).
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
from pydantic import Field, field_validator, model_validator

from flowlearn.evaluation.capacity import (
    fit_power_law,
    mean_squared_error,
    mlp_width_sweep,
    polynomial_capacity_sweep,
)
from flowlearn.experiments._base import Claim, Experiment, ExperimentConfig, Result
from flowlearn.training import resolve_device

#: the slide's rule-based model and the law the data are drawn from
LAW_COEFFICIENT = 3.0
LAW_ORDER = 2
#: test error at the extreme capacities must exceed the optimum by this factor to call it
#: under- / over-fitting
FIT_FACTOR = 2.0
#: points of the grid the fitted curves are drawn on
N_GRID = 400


def true_law(x: np.ndarray) -> np.ndarray:
    """The law of the slide, ``y = 3 x^2``."""
    return LAW_COEFFICIENT * np.asarray(x, dtype=float) ** LAW_ORDER


class Config(ExperimentConfig):
    """Capacity sweep of polynomials (order 0 .. n_points - 1) and of a tanh MLP (width)."""

    n_points: int = Field(
        12,
        ge=4,
        le=20,
        description="training points per draw; order n_points - 1 interpolates them. The slide "
        "uses about 12; above 20 the interpolant is too ill-conditioned to mean anything",
    )
    noise_std: float = Field(
        0.1,
        ge=0.0,
        le=3.0,
        description="standard deviation of the Gaussian noise on y (units of y); the law spans "
        "0..3 on [0, 1], so above 3 the noise hides it. 0.1 shows the optimum at order 2 clearly",
    )
    x_min: float = Field(
        0.0, ge=0.0, le=10.0, description="lower end of the x range; >= 0 because x^b is real"
    )
    x_max: float = Field(1.0, gt=0.0, le=10.0, description="upper end of the x range, > x_min")
    n_test: int = Field(
        1000, ge=10, le=1_000_000, description="test points, drawn like the training points"
    )
    n_datasets: int = Field(
        20,
        ge=1,
        le=1000,
        description="independent draws of the training set; the curves are medians over them",
    )
    nn_widths: list[int] = Field(
        [1, 2, 4, 8, 16, 32, 64, 128, 256],
        min_length=2,
        max_length=16,
        description="hidden widths of the network sweep, increasing, each in 1..4096",
    )
    nn_depth: int = Field(1, ge=1, le=4, description="hidden layers of the network, all of a width")
    nn_steps: int = Field(
        5000,
        ge=1,
        le=100_000,
        description="full-batch Adam steps per network; 5000 reaches the plateau on 12 points",
    )
    nn_lr: float = Field(1e-2, gt=0.0, le=1.0, description="Adam learning rate (standardised data)")
    nn_repeats: int = Field(
        5,
        ge=1,
        le=100,
        description="draws (training set and weight initialisation) the network curve is the "
        "median of; uses the first nn_repeats of the n_datasets draws",
    )

    @field_validator("nn_widths")
    @classmethod
    def _widths_increasing(cls, widths: list[int]) -> list[int]:
        bad = [w for w in widths if not 1 <= w <= 4096]
        if bad:
            raise ValueError(f"every width must be in 1..4096, got {bad}")
        if any(b <= a for a, b in pairwise(widths)):
            raise ValueError(f"widths must be strictly increasing, got {widths}")
        return widths

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        if self.x_max <= self.x_min:
            raise ValueError(f"x_max = {self.x_max} must exceed x_min = {self.x_min}")
        if self.nn_repeats > self.n_datasets:
            raise ValueError(
                f"nn_repeats = {self.nn_repeats} exceeds n_datasets = {self.n_datasets}: the "
                "network is trained on the first nn_repeats draws"
            )
        return self


def _draw(rng: np.random.Generator, n: int, config: Config) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(config.x_min, config.x_max, n)
    return x, true_law(x) + config.noise_std * rng.standard_normal(n)


def _non_increasing(values: np.ndarray) -> bool:
    """True when each value is at most the previous one, up to round-off of the largest."""
    slack = 1e-9 * float(np.max(np.abs(values))) + 1e-12
    return bool(np.all(np.diff(values) <= slack))


def run(config: Config, run_dir: Path) -> Result:
    rng = np.random.default_rng(config.seed)
    device = resolve_device(config.device)
    x_grid = np.linspace(config.x_min, config.x_max, N_GRID)
    x_test, y_test = _draw(rng, config.n_test, config)
    draws = [_draw(rng, config.n_points, config) for _ in range(config.n_datasets)]
    init_seeds = rng.integers(0, 2**31 - 1, size=config.nn_repeats)

    # Polynomial orders 0 .. n - 1 on every draw.
    orders = np.arange(config.n_points)
    poly = [polynomial_capacity_sweep(x, y, x_test, y_test, orders, x_grid) for x, y in draws]
    poly_train = np.array([c.train_mse for c in poly])  # (n_datasets, n_orders)
    poly_test = np.array([c.test_mse for c in poly])
    train_med = np.median(poly_train, axis=0)
    test_med = np.median(poly_test, axis=0)
    best = int(np.argmin(test_med))
    best_per_draw = np.argmin(poly_test, axis=1)
    under_ratio = float(test_med[1] / test_med[best])
    over_ratio = float(test_med[-1] / test_med[best])
    train_monotone = all(_non_increasing(t) for t in poly_train)

    # The three kinds of model of the slide, on the first draw.
    x0, y0 = draws[0]
    law = fit_power_law(x0, y0)
    ladder = {
        "rule_test_mse": mean_squared_error(y_test, true_law(x_test)),
        "power_law_a": law.a,
        "power_law_b": law.b,
        "power_law_c": law.c,
        "power_law_train_mse": mean_squared_error(y0, law.predict(x0)),
        "power_law_test_mse": mean_squared_error(y_test, law.predict(x_test)),
        "polynomial_order": best,
        "polynomial_train_mse": float(poly[0].train_mse[best]),
        "polynomial_test_mse": float(poly[0].test_mse[best]),
    }

    # The same sweep for a tanh network, capacity = width.
    nets = [
        mlp_width_sweep(
            *draws[r],
            x_test,
            y_test,
            widths=config.nn_widths,
            depth=config.nn_depth,
            steps=config.nn_steps,
            lr=config.nn_lr,
            seed=int(init_seeds[r]),
            x_grid=x_grid,
            device=device,
        )
        for r in range(config.nn_repeats)
    ]
    nn_train = np.array([c.train_mse for c in nets])  # (nn_repeats, n_widths)
    nn_test = np.array([c.test_mse for c in nets])
    nn_train_med = np.median(nn_train, axis=0)
    nn_test_med = np.median(nn_test, axis=0)
    nn_best = int(np.argmin(nn_test_med))
    nn_peak = int(np.argmax(nn_test_med[nn_best:])) + nn_best
    nn_over_ratio = float(nn_test_med[-1] / nn_test_med[nn_best])
    nn_peak_ratio = float(nn_test_med[nn_peak] / nn_test_med[nn_best])
    nn_under_ratio = float(nn_test_med[0] / nn_test_med[nn_best])

    noise_var = config.noise_std**2
    metrics = {
        "noise_variance": noise_var,
        "orders": orders.tolist(),
        "poly_train_mse_median": train_med.tolist(),
        "poly_test_mse_median": test_med.tolist(),
        "poly_best_order": best,
        "poly_best_test_mse": float(test_med[best]),
        "poly_fraction_of_draws_best_is_2": float(np.mean(best_per_draw == LAW_ORDER)),
        "poly_underfit_ratio_order_1": under_ratio,
        "poly_overfit_ratio_order_max": over_ratio,
        "poly_train_non_increasing": train_monotone,
        "ladder": ladder,
        "nn_widths": list(config.nn_widths),
        "nn_train_mse_median": nn_train_med.tolist(),
        "nn_test_mse_median": nn_test_med.tolist(),
        "nn_best_width": config.nn_widths[nn_best],
        "nn_best_test_mse": float(nn_test_med[nn_best]),
        "nn_overfit_ratio_width_max": nn_over_ratio,
        "nn_peak_width_after_best": config.nn_widths[nn_peak],
        "nn_peak_ratio_after_best": nn_peak_ratio,
        "nn_underfit_ratio_width_min": nn_under_ratio,
        "nn_train_mse_width_max_over_noise": float(nn_train_med[-1] / noise_var)
        if noise_var > 0
        else None,
    }
    verdicts = claims(config, metrics)
    arrays = {
        "x_train": x0,
        "y_train": y0,
        "x_test": x_test,
        "y_test": y_test,
        "x_grid": x_grid,
        "y_law": true_law(x_grid),
        "y_power_law": law.predict(x_grid),
        "orders": orders,
        "poly_predictions": poly[0].predictions,  # (n_orders, N_GRID), first draw
        "poly_train_mse": poly_train,
        "poly_test_mse": poly_test,
        "nn_widths": np.asarray(config.nn_widths),
        "nn_predictions": nets[0].predictions,  # (n_widths, N_GRID), first draw
        "nn_train_mse": nn_train,
        "nn_test_mse": nn_test,
    }
    return Result(metrics=metrics, claims=verdicts, arrays=arrays)


def claims(config: Config, m: dict) -> list[Claim]:
    n_max = config.n_points - 1
    best = m["poly_best_order"]
    under, over = m["poly_underfit_ratio_order_1"], m["poly_overfit_ratio_order_max"]
    shape_ok = under > FIT_FACTOR and over > FIT_FACTOR and m["poly_train_non_increasing"]
    shape_reason = (
        f"median test MSE over {config.n_datasets} draws: order 1 is {under:.3g}x and order "
        f"{n_max} is {over:.3g}x the optimum (order {best}); reproduced when both exceed "
        f"{FIT_FACTOR:g}x and the train error never increases with the order "
        f"({'it does not' if m['poly_train_non_increasing'] else 'it does'})."
    )
    if under <= FIT_FACTOR:
        shape_reason += (
            f" With noise std {config.noise_std:g} the noise hides the curvature a line misses."
        )

    best_reason = (
        f"order {best} has the lowest median test MSE ({m['poly_best_test_mse']:.3g}, noise "
        f"floor {m['noise_variance']:.3g}); order 2 is best in "
        f"{100 * m['poly_fraction_of_draws_best_is_2']:.0f} % of the single draws."
    )
    if best != LAW_ORDER:
        best_reason += (
            " Orders 2 and 3 differ by a fraction of the noise variance: more draws or more "
            "points separate them."
        )

    widths = m["nn_widths"]
    nn_over = m["nn_overfit_ratio_width_max"]
    nn_ok = nn_over > FIT_FACTOR
    nn_reason = (
        f"median test MSE over {config.nn_repeats} draws: width {widths[-1]} is {nn_over:.3g}x "
        f"the best (width {m['nn_best_width']}, {m['nn_best_test_mse']:.3g}); the worst width "
        f"above the best, {m['nn_peak_width_after_best']}, is "
        f"{m['nn_peak_ratio_after_best']:.3g}x; "
        f"width {widths[0]} is {m['nn_underfit_ratio_width_min']:.3g}x. Reproduced when the widest "
        f"network's test error exceeds {FIT_FACTOR:g}x the best."
    )
    if m["nn_best_width"] == widths[0]:
        nn_reason += (
            f" No under-fitting side: the narrowest network (width {widths[0]}) is already the "
            "best: so few tanh units already fit y = 3x² on this range."
        )
    if not nn_ok:
        nn_reason += (
            f" Over-fitting, if any, is mild next to the polynomial's ({nn_over:.3g}x against "
            f"{over:.3g}x for order {config.n_points - 1}): after {config.nn_steps} full-batch "
            "Adam steps more width does not turn into wiggles."
        )
    fit_noise = m["nn_train_mse_width_max_over_noise"]
    if fit_noise is not None:
        nn_reason += (
            f" The widest network's train MSE is {fit_noise:.2g}x the noise variance (the "
            f"least-squares parabola's is about 1 - 3/{config.n_points} = "
            f"{1 - 3 / config.n_points:.2f}x): "
            + (
                "it fits part of the noise."
                if fit_noise < 1 - 3 / config.n_points
                else "it fits no more of the noise than the parabola."
            )
        )

    return [
        Claim(
            slide="Capacity: under-fitting / over-fitting",
            talk="too little capacity under-fits, too much over-fits",
            measured=f"test MSE x{under:.3g} at N=1, x{over:.3g} at N={n_max} vs the optimum",
            reproduced=shape_ok,
            reason=shape_reason,
        ),
        Claim(
            slide="Capacity: under-fitting / over-fitting",
            talk=f"optimum capacity = the true law, N = {LAW_ORDER}",
            measured=f"N = {best}",
            reproduced=best == LAW_ORDER,
            reason=best_reason,
        ),
        Claim(
            slide="Capacity: under-fitting / over-fitting (neural network)",
            talk="a network with too much capacity over-fits too",
            measured=f"test MSE x{nn_over:.3g} at width {widths[-1]} vs the best width",
            reproduced=nn_ok,
            reason=nn_reason,
        ),
    ]


EXPERIMENT = Experiment(
    name="capacity",
    title="Capacity: under-fitting and over-fitting",
    claim="Too little capacity under-fits, too much over-fits: the best model has the capacity "
    "of the law behind the data.",
    order=10,
    config=Config,
    run=run,
    quick={"nn_widths": [1, 4, 16, 64, 256], "nn_steps": 1500, "nn_repeats": 1},
    runtime_quick="~15 s",
    runtime_full="~7 min",
    claims=claims,
)
