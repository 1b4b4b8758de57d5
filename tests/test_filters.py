"""Filters: Conv2d against scipy, the Laplacian on analytic images, learning the kernel,
determinism, config errors and the figures."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
import scipy.ndimage as ndi

from flowlearn.experiments import ConfigError, build_config, execute, load_run
from flowlearn.experiments.fundamentals.filters import (
    EXPERIMENT,
    KERNELS,
    SCIPY_MODE,
    filter_scipy,
    filter_torch,
)
from flowlearn.report.figures import drawer

#: a run small enough for a unit test (~1 s after torch's first optimizer import)
TINY = {
    "kernels": ["edge", "sharpen", "sobel_x"],
    "image_size": 48,
    "n_train_patches": 32,
    "n_test_patches": 16,
    "patch_size": 12,
    "epochs": 800,
}


@pytest.mark.parametrize("padding", list(SCIPY_MODE))
@pytest.mark.parametrize("name", ["edge", "sharpen"])
def test_conv2d_equals_scipy_correlate_with_the_matching_padding(name, padding):
    image = np.random.default_rng(0).random((23, 31))
    ours = filter_torch(image, [KERNELS[name]], padding)[0]
    reference = filter_scipy(image, KERNELS[name], padding)
    assert ours.shape == image.shape
    assert np.abs(ours - reference).max() < 1e-5


def test_one_conv2d_holds_kernels_of_several_sizes():
    image = np.random.default_rng(1).random((20, 20))
    names = ["edge", "sharpen", "gaussian_blur", "emboss"]
    out = filter_torch(image, [KERNELS[n] for n in names], "reflect")
    assert out.shape == (4, 20, 20)
    for channel, name in zip(out, names, strict=True):
        assert np.abs(channel - filter_scipy(image, KERNELS[name], "reflect")).max() < 1e-5


def test_convolution_flips_the_kernel_and_torch_does_not():
    image = np.random.default_rng(2).random((16, 16))
    for name, kernel in KERNELS.items():
        flipped = ndi.correlate(image, kernel[::-1, ::-1], mode="mirror")
        np.testing.assert_allclose(ndi.convolve(image, kernel, mode="mirror"), flipped)
        torch_vs_convolve = np.abs(
            filter_torch(image, [kernel], "reflect")[0] - ndi.convolve(image, kernel, mode="mirror")
        ).max()
        symmetric = np.array_equal(kernel, kernel[::-1, ::-1])
        assert (torch_vs_convolve < 1e-5) == symmetric, name


@pytest.mark.parametrize("padding", ["zeros", "reflect"])
def test_laplacian_of_a_ramp_is_zero_and_of_a_paraboloid_is_four(padding):
    y, x = np.mgrid[0:20, 0:24].astype(np.float64)
    ramp = 0.3 * x - 0.7 * y + 2.0
    paraboloid = x**2 + y**2  # Laplacian 2 + 2, exact for the 5-point stencil
    lap_ramp = filter_torch(ramp, [KERNELS["edge"]], padding)[0]
    lap_para = filter_torch(paraboloid, [KERNELS["edge"]], padding)[0]
    inside = (slice(1, -1), slice(1, -1))  # the boundary depends on the padding, not the physics
    np.testing.assert_allclose(lap_ramp[inside], 0.0, atol=1e-5)
    np.testing.assert_allclose(lap_para[inside], 4.0, atol=1e-3)  # float32 of values ~ 1000


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    return load_run(execute(EXPERIMENT, EXPERIMENT.make_config(**TINY), out))


def test_training_recovers_the_edge_kernel(tiny_run):
    learn = tiny_run.metrics["learning"]
    assert learn["max_abs_kernel_error"] < 1e-2
    np.testing.assert_allclose(tiny_run.arrays["learned_kernel"], KERNELS["edge"], atol=1e-2)
    assert learn["final_test_loss"] < 1e-3 * learn["initial_test_loss"]
    assert learn["conv_parameters"] == 10
    assert learn["dense_parameters"] == 48 * 72 * (48 * 72 + 1)
    assert all(c.reproduced for c in tiny_run.claims), tiny_run.claims


def test_same_config_same_metrics(tmp_path):
    config = EXPERIMENT.make_config(**(TINY | {"epochs": 30}))
    first = load_run(execute(EXPERIMENT, config, tmp_path))
    second = load_run(execute(EXPERIMENT, config, tmp_path))
    assert first.path != second.path
    assert json.dumps(first.metrics) == json.dumps(second.metrics)
    np.testing.assert_array_equal(first.arrays["train_loss"], second.arrays["train_loss"])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("kernels=[edge,blur]", r"kernels\.1 = 'blur'.*'edge', 'sharpen'"),
        ("image_size=8", r"image_size = 8.*greater than or equal to 32"),
        ("target_kernel=laplace", r"target_kernel = 'laplace'"),
        ("padding=mirror", r"padding = 'mirror'.*'zeros', 'reflect'"),
        ("epochs=0", r"epochs = 0.*greater than or equal to 1"),
    ],
)
def test_bad_config_names_the_field_and_the_value(override, message):
    with pytest.raises(ConfigError, match=message):
        build_config(EXPERIMENT, overrides=[override])


def test_patch_larger_than_the_photo_is_refused():
    with pytest.raises(ConfigError, match=r"patch_size 64 exceeds image_size 40"):
        build_config(EXPERIMENT, overrides=["patch_size=64", "image_size=40"])


def test_quick_mode_is_smaller_than_the_full_one():
    quick, full = EXPERIMENT.make_config(quick=True), EXPERIMENT.make_config()
    assert quick.image_size < full.image_size
    assert quick.n_train_patches < full.n_train_patches


def test_figures_draw_from_the_saved_run(tiny_run):
    figures = drawer("filters")(tiny_run)
    names = [f.name for f in figures]
    assert names == [
        "filters_gallery",
        "filters_difference",
        "filters_kernels",
        "filters_loss",
        "filters_test_photo",
    ]
    for fig in figures:
        assert fig.caption
        fig.figure.savefig(tiny_run.path / f"{fig.name}.png", dpi=40)
        plt.close(fig.figure)
