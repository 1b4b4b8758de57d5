"""Capacity: the polynomial baseline, the sweeps, the experiment's config, determinism, figures."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
from pydantic import ValidationError

from flowlearn.baselines import PolynomialRegression
from flowlearn.evaluation.capacity import (
    fit_power_law,
    mean_squared_error,
    polynomial_capacity_sweep,
)
from flowlearn.experiments import execute, load_run
from flowlearn.experiments.fundamentals.capacity import EXPERIMENT, Config, run
from flowlearn.report.figures import drawer

#: a run small enough for a unit test (about a second): few draws, two tiny networks
TINY = {
    "n_datasets": 5,
    "n_test": 200,
    "nn_widths": [1, 4],
    "nn_steps": 30,
    "nn_repeats": 2,
}


def _noisy_quadratic(seed: int, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, n)
    return x, 3.0 * x**2 + noise * rng.standard_normal(n)


@pytest.mark.parametrize(
    ("x_lo", "x_hi", "degree"), [(0.0, 1.0, 2), (-3.0, 5.0, 2), (0.0, 1.0, 4), (2.0, 9.0, 3)]
)
def test_polynomial_recovers_exact_coefficients_of_a_noiseless_quadratic(x_lo, x_hi, degree):
    x = np.linspace(x_lo, x_hi, 15)
    y = 0.5 - 1.5 * x + 3.0 * x**2
    model = PolynomialRegression(degree=degree).fit(x, y)
    expected = np.zeros(degree + 1)
    expected[:3] = [0.5, -1.5, 3.0]
    np.testing.assert_allclose(model.coef_, expected, atol=1e-9)
    x_new = np.linspace(x_lo, x_hi, 7)
    np.testing.assert_allclose(model.predict(x_new[:, None]), 0.5 - 1.5 * x_new + 3 * x_new**2)


def test_polynomial_computes_nothing_before_fit():
    model = PolynomialRegression(degree=3)
    assert not hasattr(model, "coef_")
    with pytest.raises(RuntimeError, match="not fitted"):
        model.predict(np.zeros(3))


@pytest.mark.parametrize("n", [4, 12, 20])
def test_order_n_minus_1_interpolates_the_training_points(n):
    x, y = _noisy_quadratic(seed=1, n=n, noise=0.3)
    model = PolynomialRegression(degree=n - 1).fit(x, y)
    assert mean_squared_error(y, model.predict(x)) < 1e-12 * np.mean(y**2)


def test_polynomial_errors_name_the_degree_and_the_limit():
    x, y = _noisy_quadratic(seed=0, n=5, noise=0.1)
    with pytest.raises(ValueError, match=r"degree -1 is negative"):
        PolynomialRegression(degree=-1).fit(x, y)
    with pytest.raises(ValueError, match=r"degree 5 needs at least 6 distinct x values.*got 5"):
        PolynomialRegression(degree=5).fit(x, y)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_train_error_never_increases_with_the_order(seed):
    x, y = _noisy_quadratic(seed=seed, n=12, noise=0.2)
    xt, yt = _noisy_quadratic(seed=seed + 100, n=50, noise=0.2)
    curve = polynomial_capacity_sweep(x, y, xt, yt, range(12), x_grid=np.linspace(0, 1, 5))
    assert np.all(np.diff(curve.train_mse) <= 1e-12)
    assert curve.predictions.shape == (12, 5)


def test_power_law_recovers_the_law_from_noiseless_data():
    x = np.linspace(0.0, 1.0, 12)
    law = fit_power_law(x, 3.0 * x**2 + 0.25)
    assert law.a == pytest.approx(3.0, rel=1e-5)
    assert law.b == pytest.approx(2.0, rel=1e-5)
    assert law.c == pytest.approx(0.25, abs=1e-5)
    with pytest.raises(ValueError, match=r"x >= 0"):
        fit_power_law(x - 0.5, x)


def test_optimum_order_is_the_true_order_at_low_noise(tmp_path):
    config = EXPERIMENT.make_config(noise_std=0.05, seed=0, **TINY)
    result = run(config, tmp_path)
    m = result.metrics
    assert m["poly_best_order"] == 2
    assert m["poly_train_non_increasing"]
    shape, optimum, _ = result.claims
    assert shape.reproduced and optimum.reproduced
    assert m["ladder"]["power_law_b"] == pytest.approx(2.0, abs=0.3)


@pytest.mark.parametrize(
    ("field", "value", "limit"),
    [
        ("n_points", 3, "greater than or equal to 4"),
        ("n_points", 50, "less than or equal to 20"),
        ("noise_std", -0.1, "greater than or equal to 0"),
        ("noise_std", 5.0, "less than or equal to 3"),
        ("x_min", -1.0, "greater than or equal to 0"),
        ("nn_widths", [4, 2], "strictly increasing"),
        ("nn_widths", [0, 2], "1..4096"),
        ("nn_repeats", 30, "exceeds n_datasets"),
    ],
)
def test_bad_config_values_name_the_field_and_the_limit(field, value, limit):
    with pytest.raises(ValidationError) as err:
        Config(**{field: value})
    assert field in str(err.value)
    assert limit in str(err.value)


def test_x_range_must_be_ordered():
    with pytest.raises(ValidationError, match=r"x_max = 0.5 must exceed x_min = 0.8"):
        Config(x_min=0.8, x_max=0.5)


def test_quick_mode_is_a_valid_config():
    config = EXPERIMENT.make_config(quick=True)
    assert config.quick and config.nn_repeats == 1


def test_same_seed_gives_identical_metrics(tmp_path):
    config = EXPERIMENT.make_config(**TINY)
    first = load_run(execute(EXPERIMENT, config, tmp_path))
    second = load_run(execute(EXPERIMENT, config, tmp_path))
    assert first.path != second.path
    assert json.dumps(first.metrics) == json.dumps(second.metrics)
    np.testing.assert_array_equal(first.arrays["nn_test_mse"], second.arrays["nn_test_mse"])
    other = load_run(execute(EXPERIMENT, EXPERIMENT.make_config(seed=1, **TINY), tmp_path))
    assert other.metrics["poly_test_mse_median"] != first.metrics["poly_test_mse_median"]


def test_figures_draw_from_a_saved_run(tmp_path):
    run_dir = execute(EXPERIMENT, EXPERIMENT.make_config(**TINY), tmp_path)
    figures = drawer("capacity")(load_run(run_dir))
    assert [f.name for f in figures] == [
        "capacity_ladder",
        "capacity_orders",
        "capacity_error_curve",
        "capacity_network",
    ]
    for f in figures:
        assert f.caption and f.figure.axes
        f.figure.savefig(tmp_path / f"{f.name}.png")
        plt.close(f.figure)
