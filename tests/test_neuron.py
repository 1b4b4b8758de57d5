"""Neuron / playground: the site's training rules, the X1^2, X2^2 claim on a small run,
determinism, config errors and the figures."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from flowlearn.experiments import ConfigError, build_config, execute, load_run
from flowlearn.experiments.fundamentals.neuron import EXPERIMENT, make_network, site_loss
from flowlearn.report.figures import drawer

#: a run small enough for a unit test (a few seconds): one classification and one regression set
TINY = {
    "datasets": ["circle", "plane"],
    "n_regression": 100,
    "epochs": 20,
    "feature_epochs": 60,
    "grid_resolution": 16,
}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    return load_run(execute(EXPERIMENT, EXPERIMENT.make_config(**TINY), out))


def test_network_starts_as_the_site_and_uses_its_loss():
    torch.manual_seed(0)
    model = make_network(2, [4, 2], classification=True, activation="tanh")
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert [tuple(m.weight.shape) for m in linears] == [(4, 2), (2, 4), (1, 2)]
    for m in linears:
        assert m.weight.abs().max() <= 0.5
        assert torch.all(m.bias == 0.1)
    out = model(torch.zeros(3, 2))
    assert out.shape == (3, 1) and out.abs().max() < 1  # tanh output when classifying
    regression = make_network(2, [], classification=False, activation="tanh")
    assert len(regression) == 1  # linear output
    loss = site_loss(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 0.0]))
    assert loss.item() == pytest.approx(0.25)  # mean of 0.5 * (output - label)^2


def test_squared_features_separate_the_circle_without_a_hidden_layer(tiny_run):
    comp = tiny_run.metrics["feature_comparison"]
    assert comp["squares"]["test_accuracy"] >= 0.95
    assert comp["linear"]["test_accuracy"] < 0.7
    # the learned boundary w1 X1^2 + w2 X2^2 + b = 0 is a circle of radius between the classes
    w, b = comp["squares"]["weights"], comp["squares"]["bias"]
    assert w[0] < 0 and w[1] < 0 and b > 0
    radius = np.sqrt(-b / np.mean(w))
    assert 2.5 <= radius <= 3.5
    claim = next(c for c in tiny_run.claims if c.slide == "Playground: features")
    assert claim.reproduced, claim


def test_worked_neuron_matches_torch(tiny_run):
    a, m = tiny_run.arrays, tiny_run.metrics["neuron"]
    z = a["neuron_inputs"] @ a["neuron_weights"] + a["neuron_bias"][0]
    np.testing.assert_allclose(a["neuron_z"], z, rtol=1e-5)
    np.testing.assert_allclose(a["neuron_outputs"], np.tanh(z), rtol=1e-5)
    np.testing.assert_allclose(a["neuron_inputs"], a["neuron_points"] ** 2, rtol=1e-6)
    assert m["by_hand_vs_torch_max_abs"] < 1e-5
    assert list(a["neuron_labels"]) == [1.0, -1.0]


def test_run_reports_train_and_test_for_every_set(tiny_run):
    sets = tiny_run.metrics["datasets"]
    assert set(sets) == {"circle", "plane"}
    assert sets["circle"]["n_train"] == sets["circle"]["n_test"] == 250
    assert {"train_loss", "test_loss", "train_accuracy", "test_accuracy"} <= set(sets["circle"])
    assert {"train_loss", "test_loss", "test_r2"} <= set(sets["plane"])
    curve = tiny_run.arrays["circle_train_loss"]
    assert curve.shape == (TINY["epochs"] + 1,) and curve[-1] < curve[0]
    assert tiny_run.arrays["circle_heatmap"].shape == (16, 16)


def test_same_config_same_metrics(tmp_path):
    config = EXPERIMENT.make_config(**(TINY | {"epochs": 3, "feature_epochs": 3}))
    first = load_run(execute(EXPERIMENT, config, tmp_path))
    second = load_run(execute(EXPERIMENT, config, tmp_path))
    assert json.dumps(first.metrics) == json.dumps(second.metrics)
    for key in ("circle_heatmap", "plane_test_loss", "features_squares_heatmap"):
        np.testing.assert_array_equal(first.arrays[key], second.arrays[key])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("datasets=[moons]", r"datasets\.0 = 'moons'.*'circle', 'xor', 'gauss', 'spiral'"),
        ("noise=0.7", r"noise = 0\.7.*less than or equal to 0\.5"),
        ("hidden=[0]", r"hidden\.0 = 0.*greater than or equal to 1"),
        ("features=[cos(x1)]", r"features\.0 = 'cos\(x1\)'"),
        ("train_fraction=0.95", r"train_fraction = 0\.95.*less than or equal to 0\.9"),
        ("learning_rate=0", r"learning_rate = 0.*greater than 0"),
    ],
)
def test_bad_config_names_the_field_and_the_value(override, message):
    with pytest.raises(ConfigError, match=message):
        build_config(EXPERIMENT, overrides=[override])


def test_figures_draw_from_the_saved_run(tiny_run):
    figures = drawer("neuron")(tiny_run)
    assert [f.name for f in figures] == [
        "neuron_worked_example",
        "neuron_datasets",
        "neuron_heatmaps",
        "neuron_losses",
        "neuron_features",
    ]
    for fig in figures:
        assert fig.caption
        fig.figure.savefig(tiny_run.path / f"{fig.name}.png", dpi=40)
        plt.close(fig.figure)
