"""The playground's data sets: each generator checked against the site's definition (dataset.ts)."""

from __future__ import annotations

import numpy as np
import pytest

from flowlearn.data import (
    CLASSIFICATION,
    DATASETS,
    FEATURES,
    REGRESSION,
    domain_grid,
    feature_map,
    make_dataset,
    train_test_split,
)
from flowlearn.data.playground import BUMPS, gauss_variance, multi_gaussian_label


@pytest.mark.parametrize("name", DATASETS)
def test_default_counts_dtypes_and_shapes(name):
    X, y = make_dataset(name)
    n = 500 if name in CLASSIFICATION else 1200
    assert X.shape == (n, 2) and y.shape == (n,)
    assert X.dtype == np.float32 and y.dtype == np.float32
    assert np.all(np.isfinite(X)) and np.all(np.isfinite(y))


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_classification_labels_are_plus_minus_one_and_balanced(name, noise):
    _, y = make_dataset(name, noise=noise, seed=3)
    assert set(np.unique(y)) <= {-1.0, 1.0}
    positives = int(np.sum(y > 0))
    if name in ("gauss", "spiral") or (name == "circle" and noise == 0.0):
        assert positives == 250  # 250 drawn per class
    elif name == "xor":
        assert abs(positives - 250) <= 50  # quadrants of a uniform square: binomial, std 11
    else:
        # circle at 50 % noise: the label is taken on the shifted point, and a shift of up to
        # 2.5 per axis pushes more inner points out of r < 2.5 than outer ones in (as on the site)
        assert 100 < positives < 250


@pytest.mark.parametrize(
    ("name", "bound"),
    [
        ("circle", 5.0),
        ("xor", 5.3),  # uniform(-5, 5) pushed 0.3 away from the axes
        ("spiral", 5.0 + 0.5),  # radius < 5, plus noise up to 0.5
        ("plane", 6.0),
        ("multi-gaussian", 6.0),
    ],
)
@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_points_stay_in_the_domain(name, bound, noise):
    X, _ = make_dataset(name, noise=noise, seed=1)
    assert np.abs(X).max() <= bound + 1e-5


def test_circle_labels_follow_the_radius_rule_at_zero_noise():
    X, y = make_dataset("circle", noise=0.0, seed=4)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_array_equal(y, np.where(r < 2.5, 1.0, -1.0))
    # positives drawn in r in [0, 2.5], negatives in the ring [3.5, 5]
    assert r[y > 0].max() <= 2.5 and r[y < 0].min() >= 3.5 and r.max() <= 5.0


def test_circle_noise_flips_labels_near_the_gap_only():
    X, y = make_dataset("circle", noise=0.5, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    flipped = y != np.where(r < 3.0, 1.0, -1.0)
    assert 0 < flipped.sum() < len(y) // 2


def test_xor_label_is_the_sign_of_x_times_y_and_points_avoid_the_axes():
    X, y = make_dataset("xor", noise=0.0, seed=2)
    np.testing.assert_array_equal(y, np.where(X[:, 0] * X[:, 1] >= 0, 1.0, -1.0))
    assert np.abs(X).min() >= 0.3 - 1e-6


def test_gauss_means_and_variance_mapping():
    assert gauss_variance(0.0) == pytest.approx(0.5)
    assert gauss_variance(0.5) == pytest.approx(4.0)
    assert gauss_variance(0.25) == pytest.approx(2.25)
    for noise in (0.0, 0.5):
        X, y = make_dataset("gauss", n_samples=20_000, noise=noise, seed=0)
        for label, centre in ((1.0, 2.0), (-1.0, -2.0)):
            pts = X[y == label]
            np.testing.assert_allclose(pts.mean(axis=0), [centre, centre], atol=0.06)
            np.testing.assert_allclose(pts.var(axis=0), gauss_variance(noise), rtol=0.05)


def test_spiral_radius_and_angle():
    X, y = make_dataset("spiral", noise=0.0, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    n = 250
    expected = np.arange(n) / n * 5.0
    np.testing.assert_allclose(r[:n], expected, atol=1e-5)
    np.testing.assert_allclose(r[n:], expected, atol=1e-5)
    assert r.min() == 0.0 and r.max() < 5.0
    # the negative spiral is the positive one turned by pi
    np.testing.assert_allclose(X[n:], -X[:n], atol=1e-5)
    assert np.all(y[:n] == 1.0) and np.all(y[n:] == -1.0)


def test_plane_label_is_x_plus_y_over_ten():
    X, y = make_dataset("plane", noise=0.0, seed=0)
    np.testing.assert_allclose(y, (X[:, 0] + X[:, 1]) / 10.0, atol=1e-6)
    # [-10, 10] -> [-1, 1] is not clamped on the site: corners of [-6, 6]^2 reach +-1.2
    assert np.abs(y).max() <= 1.2 + 1e-6
    assert np.mean(np.abs(y) <= 1.0) > 0.9


def test_multi_gaussian_label_is_plus_minus_one_at_the_bump_centres():
    centres = np.array([(cx, cy) for cx, cy, _ in BUMPS])
    signs = np.array([s for _, _, s in BUMPS])
    np.testing.assert_array_equal(multi_gaussian_label(centres[:, 0], centres[:, 1]), signs)
    # distance 1 from a bump: half its value; 2 or more from every bump: 0
    assert multi_gaussian_label(np.array([-4.0]), np.array([3.5]))[0] == pytest.approx(0.5)
    assert multi_gaussian_label(np.array([6.0]), np.array([6.0]))[0] == 0.0
    X, y = make_dataset("multi-gaussian", noise=0.0, seed=0)
    assert np.abs(y).max() <= 1.0
    np.testing.assert_allclose(y, multi_gaussian_label(X[:, 0], X[:, 1]), atol=1e-6)


@pytest.mark.parametrize("name", DATASETS)
def test_same_seed_same_points_other_seed_other_points(name):
    X1, y1 = make_dataset(name, noise=0.2, seed=7)
    X2, y2 = make_dataset(name, noise=0.2, seed=7)
    X3, _ = make_dataset(name, noise=0.2, seed=8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_errors_name_the_valid_sets_and_the_noise_limit():
    with pytest.raises(ValueError, match=r"unknown playground data set 'moons'.*circle, xor"):
        make_dataset("moons")
    with pytest.raises(ValueError, match=r"noise 0\.7 exceeds 0\.5, the playground's maximum"):
        make_dataset("circle", noise=0.7)
    with pytest.raises(ValueError, match=r"noise -0\.1 is negative"):
        make_dataset("xor", noise=-0.1)
    with pytest.raises(ValueError, match=r"n_samples 1 is below 2"):
        make_dataset("gauss", n_samples=1)


def test_split_is_a_shuffled_partition_at_the_site_ratio():
    X, y = make_dataset("circle", seed=0)
    (X_tr, y_tr), (X_te, y_te) = train_test_split(X, y, seed=0)
    assert len(X_tr) == len(X_te) == 250
    both = np.concatenate([X_tr, X_te])
    assert sorted(map(tuple, both)) == sorted(map(tuple, X))
    assert np.sum(np.concatenate([y_tr, y_te])) == np.sum(y)
    # shuffled: the generator's order (250 positives first) is gone
    assert 0.3 < np.mean(y_tr > 0) < 0.7
    (X_tr3, _), _ = train_test_split(X, y, train_fraction=0.3, seed=0)
    assert len(X_tr3) == 150
    with pytest.raises(ValueError, match=r"train_fraction 0\.95 is outside \[0\.1, 0\.9\]"):
        train_test_split(X, y, train_fraction=0.95)


def test_feature_maps():
    X = np.array([[1.0, 2.0], [-3.0, 0.5]], dtype=np.float32)
    Z = feature_map(X, FEATURES)
    expected = [
        [1.0, 2.0, 1.0, 4.0, 2.0, np.sin(1.0), np.sin(2.0)],
        [-3.0, 0.5, 9.0, 0.25, -1.5, np.sin(-3.0), np.sin(0.5)],
    ]
    np.testing.assert_allclose(Z, expected, rtol=1e-6)
    assert Z.dtype == np.float32
    with pytest.raises(ValueError, match=r"unknown feature\(s\) \['cos\(x1\)'\].*x1\^2"):
        feature_map(X, ["x1", "cos(x1)"])


def test_domain_grid_covers_the_square_row_major():
    axis, points = domain_grid(5)
    np.testing.assert_allclose(axis, [-6, -3, 0, 3, 6])
    assert points.shape == (25, 2)
    # row = x2, column = x1: the second point moves along x1
    np.testing.assert_allclose(points[:2], [[-6, -6], [-3, -6]])


def test_name_tuples():
    assert set(CLASSIFICATION) | set(REGRESSION) == set(DATASETS)
    assert len(FEATURES) == 7
