"""Random obstacle families: placement, size, determinism and the constructors' SDFs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import label

from flowlearn.physics import geometry
from flowlearn.physics import shape_families as sf
from flowlearn.physics.geometry import ShapeError

GRIDS = [(32, 16), (64, 32), (256, 128)]
SEEDS = range(4)


def _cells_in_bounds(shape, nx, ny):
    """SDF at the grid's cell centres inside the shape's bounding box (plus one cell)."""
    lo, hi = shape.bounds
    x, y = np.arange(nx) + 0.5, np.arange(ny) + 0.5
    x, y = x[(x > lo[0] - 1) & (x < hi[0] + 1)], y[(y > lo[1] - 1) & (y < hi[1] + 1)]
    xx, yy = np.meshgrid(x, y)
    return shape.sdf(np.stack([xx.ravel(), yy.ravel()], axis=1))


def test_family_lists():
    assert sf.FAMILIES == sf.TRAIN_FAMILIES + sf.EXTRA_TRAIN_FAMILIES + sf.HELDOUT_FAMILIES
    assert len(set(sf.FAMILIES)) == len(sf.FAMILIES)


@pytest.mark.parametrize("grid", GRIDS, ids=lambda g: f"{g[0]}x{g[1]}")
@pytest.mark.parametrize("family", sf.FAMILIES)
def test_random_shape_is_placed_and_sized(family, grid):
    nx, ny = grid
    corners = np.array([[0.5, 0.5], [nx - 0.5, 0.5], [0.5, ny - 0.5], [nx - 0.5, ny - 0.5]])
    for seed in SEEDS:
        shape = sf.random_shape(family, np.random.default_rng(seed), grid)
        assert isinstance(shape, geometry.Shape)
        assert shape.name == family
        shape.check_inside((0, 0), (nx, ny), margin=2)
        lo, hi = shape.bounds
        assert lo[1] >= 3 and hi[1] <= ny - 3, "wall gap"
        assert hi[0] <= 0.7 * nx + 1e-9, "room for the wake"
        assert abs(0.5 * (lo[1] + hi[1]) - ny / 2) <= 0.08 * ny + 1e-9
        assert (_cells_in_bounds(shape, nx, ny) < 0).any(), "no solid cell"
        assert (shape.sdf(corners) > 0).all()
        ext = hi[1] - lo[1]
        if family == "naca":  # thin airfoil: chord-sized, y-extent only capped
            assert 0 < ext <= 0.30 * ny + 1e-9
            assert 0.3 * ny * np.cos(np.radians(15)) - 1e-9 <= hi[0] - lo[0] <= 0.5 * ny + 1e-9
        elif family == "slender":  # thin ellipse or plate: length 0.3-0.5 ny at +-20 deg
            assert 0 < ext <= 0.30 * ny + 1e-9
            length = hi[0] - lo[0]
            assert 0.3 * ny * np.cos(np.radians(20)) * 0.99 <= length <= 0.5 * ny * 1.01
        elif family in ("multi", "triple"):  # a cluster of bodies each >= 0.5 h tall
            assert 0.5 * 0.15 * ny - 1e-9 <= ext <= ny - 6
        else:
            assert 0.15 * ny - 1e-9 <= ext <= 0.30 * ny + 1e-9


def test_slender_bodies_are_thin_and_cover_the_airfoils_extent():
    """The slender family reaches the airfoils' regime (a few cells tall, 3x+ longer than
    tall) that the six default families never enter (>= 0.15 ny tall, aspect <= ~2.5)."""
    nx, ny = 128, 64
    aspects, heights = [], []
    for seed in range(40):
        shape = sf.random_shape("slender", np.random.default_rng(seed), (nx, ny))
        lo, hi = shape.bounds
        aspects.append((hi[0] - lo[0]) / (hi[1] - lo[1]))
        heights.append(hi[1] - lo[1])
    assert np.median(heights) < 0.15 * ny
    assert max(aspects) > 4 and min(heights) < 5


def test_random_shape_at_minimum_grid():
    for family in sf.FAMILIES:
        shape = sf.random_shape(family, np.random.default_rng(1), (16, 8))
        shape.check_inside((0, 0), (16, 8), margin=2)
        assert (shape.sample(16, 8, 1.0) < 0).any()


def test_pair_bodies_are_disjoint_and_both_solid():
    for seed in range(10):
        shape = sf.random_shape("pair", np.random.default_rng(seed), (64, 32))
        mask = shape.sample(64, 32, 1.0) < 0
        assert label(mask)[1] == 2, f"seed {seed}: expected two separate bodies"


def test_multi_scenes_hold_two_or_three_separate_bodies():
    counts = []
    for seed in range(30):
        mask = sf.random_shape("multi", np.random.default_rng(seed), (128, 64)).sample(128, 64, 1.0)
        counts.append(label(mask < 0, structure=np.ones((3, 3)))[1])
    assert set(counts) == {2, 3}, counts


def _solidity(family, seed, grid=(128, 64)):
    from flowlearn.evaluation.ood import DESCRIPTORS, shape_descriptors

    mask = sf.random_shape(family, np.random.default_rng(seed), grid).sample(*grid, 1.0) < 0
    d = shape_descriptors(mask)[0]
    return d[DESCRIPTORS.index("solidity")], d[DESCRIPTORS.index("compactness")]


def test_new_families_have_the_features_they_are_named_for():
    """Crescents and C/U shapes carry deep concavities (solidity well below a convex body's
    ~1), L/T/cross shapes sharp concave corners, gears teeth (a longer outline than a disc
    of the same area); circles stay convex and compact."""
    median = {
        f: np.median([_solidity(f, seed) for seed in range(12)], axis=0)
        for f in ("circle", "crescent", "cshape", "concave", "gear")
    }
    assert median["circle"][0] > 0.9
    assert median["crescent"][0] < 0.75 and median["cshape"][0] < 0.8
    assert median["concave"][0] < 0.85
    assert median["gear"][1] > 1.1 * median["circle"][1]


@pytest.mark.parametrize("family", sf.FAMILIES)
def test_random_shape_is_deterministic(family):
    grid = (64, 32)
    a = sf.random_shape(family, np.random.default_rng(7), grid)
    b = sf.random_shape(family, np.random.default_rng(7), grid)
    c = sf.random_shape(family, np.random.default_rng(8), grid)
    np.testing.assert_array_equal(a.bounds[0], b.bounds[0])
    np.testing.assert_array_equal(a.sample(*grid, 1.0), b.sample(*grid, 1.0))
    assert not np.array_equal(a.sample(*grid, 1.0), c.sample(*grid, 1.0))


def test_unknown_family_and_small_grid():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"'hexagon'.*circle, ellipse.*naca, star, pair"):
        sf.random_shape("hexagon", rng, (64, 32))
    with pytest.raises(ValueError, match="16 x 8"):
        sf.random_shape("circle", rng, (15, 8))
    with pytest.raises(ValueError, match="16 x 8"):
        sf.random_shape("circle", rng, (64, 7))
    with pytest.raises(ValueError, match="pair of integers"):
        sf.random_shape("circle", rng, (64.0, 32.0))


def test_union_sdf_is_min_and_bounds_union():
    a = geometry.circle((3.0, 3.0), 1.0)
    b = sf.rectangle((8.0, 4.0), 2.0, 4.0, angle_deg=30)
    u = sf.union(a, b, name="pair")
    pts = np.random.default_rng(0).uniform(0, 12, size=(200, 2))
    np.testing.assert_allclose(u.sdf(pts), np.minimum(a.sdf(pts), b.sdf(pts)))
    np.testing.assert_allclose(u.bounds[0], np.minimum(a.bounds[0], b.bounds[0]))
    np.testing.assert_allclose(u.bounds[1], np.maximum(a.bounds[1], b.bounds[1]))
    assert u.name == "pair"
    with pytest.raises(ShapeError):
        sf.union()


@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0])
def test_ellipse_sdf_on_axes(angle):
    c, a, b = np.array([10.0, 6.0]), 4.0, 2.0
    e = sf.ellipse(c, a, b, angle_deg=angle)
    d = np.array([0.0, 0.5, 3.0])
    # outside, on the major and minor axes: the distance to the apex is exact
    major = sf.rotate(np.stack([a + d, 0 * d], axis=1), angle) + c
    minor = sf.rotate(np.stack([0 * d, -(b + d)], axis=1), angle) + c
    np.testing.assert_allclose(e.sdf(major), d, atol=1e-9)
    np.testing.assert_allclose(e.sdf(minor), d, atol=1e-9)
    # inside: the centre is b from the boundary (polygon: within the chord sagitta)
    np.testing.assert_allclose(e.sdf(c[None]), [-b], rtol=5e-3)
    assert e.name == "ellipse"


def test_rectangle_and_triangle_exact():
    r = sf.rectangle((5.0, 5.0), 4.0, 2.0, angle_deg=90)
    np.testing.assert_allclose(r.sdf(np.array([[5.0, 5.0], [5.0, 8.0], [7.0, 5.0]])), [-1, 1, 1])
    t = sf.triangle((0.0, 0.0), 2.0)
    np.testing.assert_allclose(t.sdf(np.array([[0.0, 0.0], [0.0, 3.0]])), [-1.0, 1.0])
    with pytest.raises(ShapeError):
        sf.triangle((0.0, 0.0), 1.0, angles_deg=(0.0, 0.0, 90.0))


def test_star_and_blob_are_simple_polygons():
    rng = np.random.default_rng(0)
    for points in range(3, 13):
        s = sf.regular_star((0.0, 0.0), 2.0, rng.uniform(0.2, 1.9), points, rng.uniform(0, 360))
        assert s.sdf(np.zeros((1, 2)))[0] < 0
    for _ in range(30):
        k = int(rng.integers(1, 8))
        amp = rng.uniform(0, 1, k)
        amp *= rng.uniform(0.0, 0.69) / amp.sum()
        coeffs = np.stack([amp, rng.uniform(0, 2 * np.pi, k)], axis=1)
        blob = sf.fourier_blob((1.0, 2.0), 3.0, coeffs)
        assert blob.sdf(np.array([[1.0, 2.0]]))[0] < 0
    with pytest.raises(ShapeError, match=r"0\.3 r0"):
        sf.fourier_blob((0.0, 0.0), 1.0, [[0.5, 0.0], [0.4, np.pi]])
    with pytest.raises(ShapeError):
        sf.regular_star((0.0, 0.0), 1.0, 1.5)


def test_blob_radius_formula():
    coeffs = np.array([[0.0, 0.0], [0.2, 0.0]])  # r = 2 (1 + 0.2 cos 2t)
    blob = sf.fourier_blob((0.0, 0.0), 2.0, coeffs, n=256)
    np.testing.assert_allclose(blob.bounds[1], [2.4, 1.6], atol=1e-9)


def test_body_extents_measure_what_the_solver_sees():
    from flowlearn.physics.shape_families import body_extents

    circle = body_extents("circle", (128, 64), n=30)
    # a circle's extents in cells: as long as it is tall, within a cell of round-off
    assert np.all(np.abs(circle.length - circle.height) <= 1)
    assert 0.15 * 64 - 1 <= circle.height.min() and circle.height.max() <= 0.30 * 64 + 1
    naca = body_extents("naca", (128, 64), n=30)
    assert np.median(naca.aspect) > 3 and naca.height.max() < circle.height.min()
    same = body_extents("naca", (128, 64), n=30)
    np.testing.assert_array_equal(same.height, naca.height)  # drawn as a dataset draws them


def test_dataset_families_command_prints_every_family():
    from typer.testing import CliRunner

    from flowlearn.cli import app
    from flowlearn.physics.shape_families import FAMILIES

    result = CliRunner().invoke(app, ["dataset", "families", "--grid", "64x32", "--n", "5"])
    assert result.exit_code == 0, result.output
    for family in FAMILIES:
        assert family in result.output
    bad = CliRunner().invoke(app, ["dataset", "families", "--grid", "8x4"])
    assert bad.exit_code == 2 and "smaller than the minimum 16 x 8" in bad.output
