"""Figures of flow-surrogate, drawn from a fake run: names, content, rendering, missing arrays."""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import Collection
from matplotlib.image import AxesImage

from flowlearn.experiments import RunRecord
from flowlearn.report.figures import drawer
from flowlearn.report.figures.cfd.flow_surrogate import draw

NAMES = [
    "surrogate_fields",
    "surrogate_errors",
    "surrogate_drag",
    "surrogate_reynolds",
    "surrogate_trust",
    "surrogate_cost_accuracy",
    "surrogate_curves",
]
M, NY, NX = 4, 16, 32
TEST_FAMILIES = ("circle", "ellipse", "rectangle")
HELDOUT_FAMILIES = ("naca", "star", "pair")


def _fields(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Channel flow around a disc: (n, 3, NY, NX) fields and (n, NY, NX) masks."""
    y, x = np.mgrid[0:NY, 0:NX] + 0.5
    profile = 6 * (y / NY) * (1 - y / NY)
    fields = np.empty((n, 3, NY, NX))
    masks = np.empty((n, NY, NX), bool)
    for i in range(n):
        cx, cy, r = rng.uniform(8, 12), rng.uniform(6, 10), rng.uniform(2, 4)
        mask = (x - cx) ** 2 + (y - cy) ** 2 < r**2
        fields[i, 0] = profile * (1 - np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r**2)))
        fields[i, 1] = 0.1 * np.sin(2 * np.pi * x / NX) * profile
        fields[i, 2] = 0.5 * (1 - x / NX)
        fields[i, :, mask] = np.nan  # the LBM leaves nothing meaningful inside the body
        masks[i] = mask
    return fields, masks


def fake_run(seed: int = 0) -> RunRecord:
    rng = np.random.default_rng(seed)
    true, mask = _fields(rng, M)
    pred = true + 0.02 * rng.standard_normal(true.shape)
    a: dict[str, np.ndarray] = {
        "example_true": true.astype(np.float32),
        "example_pred": pred.astype(np.float32),
        "example_spread": np.abs(0.01 * rng.standard_normal(true.shape)).astype(np.float32),
        "example_mask": mask,
        "example_sdf": rng.standard_normal((M, NY, NX)).astype(np.float32),
        "example_re": rng.uniform(10, 40, M),
        "example_error": rng.uniform(0.01, 0.08, M),
        "example_label": np.array(
            ["test: circle", "test: ellipse", "held out: naca", "held out: star"]
        ),
    }
    for name, families, n, scale in (
        ("test", TEST_FAMILIES, 20, 0.02),
        ("heldout", HELDOUT_FAMILIES, 12, 0.08),
    ):
        a[f"{name}_error"] = rng.lognormal(np.log(scale), 0.4, n)
        a[f"{name}_family"] = np.array([families[i % len(families)] for i in range(n)])
        a[f"{name}_re"] = rng.uniform(10, 40, n)
        cd = rng.uniform(3, 12, n)
        a[f"{name}_cd_lbm"] = cd
        a[f"{name}_cd_pred"] = cd * (1 + scale * rng.standard_normal(n))
        a[f"{name}_guo_error"] = 1.5 * a[f"{name}_error"]
    a["sweep_re"] = rng.uniform(3, 70, 30)
    a["sweep_error"] = 0.02 + 0.002 * np.abs(a["sweep_re"] - 25)
    a["re_range"] = np.array([10.0, 40.0])
    a["trust_spread"] = rng.lognormal(-5, 1, 500).astype(np.float32)
    a["trust_error"] = (a["trust_spread"] * rng.lognormal(0, 1, 500)).astype(np.float32)
    a["trust_error"][:5] = 0.0  # exact zeros must be clipped, not dropped by the log axes
    for model in ("unet_0", "unet_1", "unet_2", "guo_0"):
        a[f"curve_{model}_train"] = np.geomspace(1.0, 0.01, 15).astype(np.float32)
        a[f"curve_{model}_val"] = np.geomspace(1.2, 0.02, 15).astype(np.float32)
    # a real run's scorecard (tests/data/claims/), with the figures' own numbers on top
    real = json.loads((Path(__file__).parent / "data/claims/flow-surrogate.json").read_text())
    metrics = {
        **real,
        "test_error": float(a["test_error"].mean()),
        "heldout_error": float(a["heldout_error"].mean()),
        "cd_error_test": 0.03,
        "cd_error_heldout": 0.07,
        "re_sweep_error_inside": 0.025,
        "re_sweep_error_below": 0.04,
        "re_sweep_error_above": 0.06,
        "spread_error_spearman_pixels": 0.61,
        "spread_error_spearman_samples": 0.74,
        "ensemble": 3,
    }
    return RunRecord(
        path=Path("fake-run"),
        experiment="flow-surrogate",
        config={},
        metrics=metrics,
        claims=[],
        arrays=a,
        wall_time_s=1.0,
    )


def _has_data(fig) -> bool:
    for ax in fig.axes:
        if ax.lines or ax.images or any(isinstance(c, Collection) for c in ax.collections):
            return True
    return False


def _render(fig) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    assert buf.getvalue().startswith(b"\x89PNG")


def test_draw_gives_the_six_figures_with_data_and_they_render():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no matplotlib complaints: log axes, layout, masks
        figures = drawer("flow-surrogate")(fake_run())
        assert [f.name for f in figures] == NAMES
        for f in figures:
            assert f.caption
            assert f.figure.axes and _has_data(f.figure), f.name
            _render(f.figure)


def test_fields_figure_has_a_row_per_example_with_the_body_masked():
    run = fake_run()
    fig = next(f for f in draw(run) if f.name == "surrogate_fields").figure
    images = [im for ax in fig.axes for im in ax.images if isinstance(im, AxesImage)]
    assert len(images) == 5 * M
    for im in images:
        data = im.get_array()
        assert np.ma.isMaskedArray(data) and data.mask.any()  # the body
    error_images = images[2::5]
    for im in error_images:
        lo, hi = im.get_clim()
        assert lo == pytest.approx(-hi) and hi > 0
        assert im.get_cmap().name.startswith("RdBu")
    titles = [sf._suptitle.get_text() for sf in fig.subfigs]
    assert len(titles) == M and "held out: naca" in titles[2] and "%" in titles[2]


def test_trust_title_has_the_spearman_correlations_and_log_axes():
    fig = next(f for f in draw(fake_run()) if f.name == "surrogate_trust").figure
    ax = fig.axes[0]
    assert "0.61" in ax.get_title() and "0.74" in ax.get_title()
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"


def test_curves_have_train_and_validation_per_model():
    fig = next(f for f in draw(fake_run()) if f.name == "surrogate_curves").figure
    ax = fig.axes[0]
    assert len(ax.lines) == 8 and ax.get_yscale() == "log"
    assert sum(line.get_linestyle() == "--" for line in ax.lines) == 4


def test_cost_accuracy_has_every_lbm_setting_the_front_and_each_network():
    run = fake_run()
    fig = next(f for f in draw(run) if f.name == "surrogate_cost_accuracy").figure
    speed = run.metrics["cost_accuracy"]
    assert len(fig.axes) == 2  # the test split and the held-out families
    for ax, key in zip(fig.axes, ("test", "heldout"), strict=True):
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        labels = ax.get_legend_handles_labels()[1]
        # one line per (grid, lattice velocity) plus the front; one marker per network and batch
        assert sum(lab.startswith("LBM grid") for lab in labels) == 9
        assert "LBM's front (cheapest at each error)" in labels
        for name, net in speed[key]["networks"].items():
            eq = net["equal_accuracy"]["64"]["speedup"]
            assert f"{name}, batch 64: x{eq:.1f}" in labels
    speed.pop("heldout")
    assert len(next(f for f in draw(run) if f.name == "surrogate_cost_accuracy").figure.axes) == 1
    speed.clear()
    assert "surrogate_cost_accuracy" not in [f.name for f in draw(run)]


def test_missing_arrays_drop_figures_and_parts():
    run = fake_run()
    for key in list(run.arrays):
        if key.startswith(("sweep_", "curve_", "trust_")) or key == "re_range" or "_guo_" in key:
            del run.arrays[key]
    run.metrics["spread_error_spearman_samples"] = None  # NaN saved to metrics.json
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figures = draw(run)
        assert [f.name for f in figures] == [
            "surrogate_fields",
            "surrogate_errors",
            "surrogate_drag",
            "surrogate_cost_accuracy",  # drawn from the metrics alone
        ]
        errors = figures[1]
        assert "Guo et al.'s CNN" not in errors.caption
        for f in figures:
            _render(f.figure)


def test_only_test_samples_and_empty_run():
    run = fake_run()
    for key in list(run.arrays):
        if key.startswith(("heldout_", "example_")):
            del run.arrays[key]
    figures = draw(run)
    assert [f.name for f in figures] == NAMES[1:]
    for f in figures:
        _render(f.figure)
    run.arrays.clear()
    run.metrics.clear()
    assert draw(run) == []


def test_sweep_without_range_and_a_single_example():
    run = fake_run()
    del run.arrays["re_range"]
    for key in [k for k in run.arrays if k.startswith("example_")]:
        run.arrays[key] = run.arrays[key][:1]
    figures = {f.name: f for f in draw(run)}
    assert "surrogate_reynolds" in figures and "surrogate_fields" in figures
    for f in figures.values():
        _render(f.figure)
