"""Curse of dimensionality: exact volumes and state counts, Monte Carlo, the experiment."""

from __future__ import annotations

import json
import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
from pydantic import ValidationError

from flowlearn.evaluation.geometry_of_high_dimensions import (
    RELATIVE_SPREAD_COEFFICIENT,
    ball_to_cube_ratio,
    count_states,
    distance_concentration,
    log10_ball_to_cube_ratio,
    sample_cube,
)
from flowlearn.experiments import execute, load_run
from flowlearn.experiments.fundamentals.dimensionality import EXPERIMENT, Config, run
from flowlearn.report.figures import drawer

TINY = {
    "mc_max_dim": 8,
    "mc_samples": 20_000,
    "distance_dims": [1, 10, 100, 1000],
    "distance_points": 60,
    "histogram_dims": [10, 1000],
}


def test_ball_share_in_2d_and_3d_is_pi_over_4_and_pi_over_6():
    np.testing.assert_allclose(
        ball_to_cube_ratio([1, 2, 3]), [1.0, math.pi / 4, math.pi / 6], rtol=1e-12
    )


def test_ball_share_follows_the_volume_recursion():
    # V_n = V_{n-2} 2 pi / n for the unit ball, so share_n = share_{n-2} pi / (2 n)
    n = np.arange(3, 60)
    share = ball_to_cube_ratio(np.arange(1, 60))
    np.testing.assert_allclose(share[2:], share[:-2] * math.pi / (2 * n), rtol=1e-11)


@pytest.mark.parametrize("max_dim", [1000, 1_000_000])
def test_log_share_never_overflows_and_decreases(max_dim):
    log10 = log10_ball_to_cube_ratio(np.arange(1, max_dim + 1))
    assert np.all(np.isfinite(log10))
    assert np.all(np.diff(log10) < 0)
    assert ball_to_cube_ratio(1000) == 0.0  # the plain ratio underflows: why we keep the log


def test_share_falls_below_one_percent_at_n_9():
    share = ball_to_cube_ratio(np.arange(1, 12))
    assert share[7] > 0.01 > share[8]


def test_grey_image_space_has_1889_digit_size():
    states = count_states(256, 28 * 28)
    assert states.log10 == pytest.approx(1888.0601328, abs=1e-6)
    assert states.digits == len(str(256**784)) == 1889
    assert states.rounded_exponent == 1888


def test_grey_image_corners_have_237_digits():
    corners = count_states(2, 784)
    assert corners.digits == len(str(2**784)) == 237
    assert corners.rounded_exponent == 236


def test_colour_image_space_matches_the_slide():
    states, corners = count_states(256, 256 * 256 * 3), count_states(2, 256 * 256 * 3)
    assert states.digits == 473_480 and states.rounded_exponent == 473_479
    # 2^196608 = 8.04 x 10^59184: the slide's 10^59,185 is the rounded exponent, not the floor
    assert corners.digits == 59_185 and corners.rounded_exponent == 59_185
    assert corners.mantissa == pytest.approx(8.0424, abs=1e-4)


@pytest.mark.parametrize(("base", "exponent", "digits"), [(10, 5, 6), (1000, 3, 10), (2, 10, 4)])
def test_digit_count_is_exact_at_powers_of_ten(base, exponent, digits):
    assert count_states(base, exponent).digits == digits == len(str(base**exponent))


def test_monte_carlo_share_within_4_binomial_sigmas_in_2_3_5_dimensions():
    mc = sample_cube(np.random.default_rng(0), [2, 3, 5], 200_000)
    z = (mc.inside_ball - mc.inside_exact) / mc.inside_sigma
    assert np.all(np.abs(z) < 4)
    np.testing.assert_array_less(mc.inside_sigmas, 4)


def test_every_orthant_is_reached_in_low_dimension_and_few_in_high():
    mc = sample_cube(np.random.default_rng(0), [2, 20], 5000)
    assert mc.orthants_occupied[0] == 1.0
    assert mc.orthants_occupied[1] == pytest.approx(mc.orthants_expected[1], rel=0.05)
    assert mc.orthants_occupied[1] < 0.01


def test_distances_concentrate_as_dimension_grows():
    conc = distance_concentration(np.random.default_rng(0), [2, 20, 200, 2000], 100)
    assert np.all(np.diff(conc.contrast) < 0)
    assert np.all(np.diff(conc.relative_spread) < 0)
    assert conc.relative_spread[-1] == pytest.approx(
        RELATIVE_SPREAD_COEFFICIENT / math.sqrt(2000), rel=0.15
    )
    # the mean distance of uniform points in [-1, 1]^n grows like sqrt(2n/3)
    assert conc.mean_distance[-1] == pytest.approx(math.sqrt(2 * 2000 / 3), rel=0.01)


def test_experiment_claims_hold_on_a_small_run(tmp_path):
    result = run(EXPERIMENT.make_config(**TINY), tmp_path)
    assert all(c.reproduced for c in result.claims), [c for c in result.claims if not c.reproduced]
    vol = result.metrics["volume"]
    assert vol["first_dim_below_1_percent"] == 9
    assert vol["log10_share_at_max_dim"] == pytest.approx(-1186.54, abs=0.01)


@pytest.mark.parametrize(
    ("field", "value", "limit"),
    [
        ("max_dim", 2, "greater than or equal to 3"),
        ("mc_max_dim", 100, "less than or equal to 40"),
        ("mc_samples", 10, "greater than or equal to 1000"),
        ("distance_points", 5000, "less than or equal to 3000"),
        ("distance_dims", [10, 5], "strictly increasing"),
        ("histogram_dims", [3], "not in distance_dims"),
    ],
)
def test_bad_config_values_name_the_field_and_the_limit(field, value, limit):
    with pytest.raises(ValidationError) as err:
        Config(**{field: value})
    assert field in str(err.value)
    assert limit in str(err.value)


def test_same_seed_gives_identical_metrics(tmp_path):
    config = EXPERIMENT.make_config(**TINY)
    first = load_run(execute(EXPERIMENT, config, tmp_path))
    second = load_run(execute(EXPERIMENT, config, tmp_path))
    assert json.dumps(first.metrics) == json.dumps(second.metrics)
    np.testing.assert_array_equal(
        first.arrays["distance_hist_counts"], second.arrays["distance_hist_counts"]
    )


def test_figures_draw_from_a_saved_run(tmp_path):
    run_dir = execute(EXPERIMENT, EXPERIMENT.make_config(**TINY), tmp_path)
    figures = drawer("dimensionality")(load_run(run_dir))
    assert [f.name for f in figures] == [
        "dimensionality_volume",
        "dimensionality_table",
        "dimensionality_monte_carlo",
        "dimensionality_distances",
    ]
    for f in figures:
        assert f.caption and f.figure.axes
        f.figure.savefig(tmp_path / f"{f.name}.png")
        plt.close(f.figure)
