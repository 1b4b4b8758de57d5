"""Each MNIST experiment end to end on a tiny slice: execute, load the run back, draw it."""

from __future__ import annotations

import json

import pytest

from flowlearn.experiments import execute, load_run
from flowlearn.experiments.fundamentals import (
    autoencoder,
    clustering,
    lenet5,
    lstm,
    mnist_best,
    mnist_mlp,
    model_zoo,
    vae,
)
from flowlearn.report.figures import drawer

TINY = {"n_train": 256, "n_test": 100}
CASES = [
    (mnist_mlp, {"epochs": 1, "softmax_epochs": 1}),
    (lenet5, {"epochs": 1}),
    (mnist_best, {"epochs": 1, "n_models": 2, "width": 4, "hidden": 16}),
    (model_zoo, {"n_train": 64, "epochs": 1, "batch_size": 32, "image_size": 64}),
    (autoencoder, {"epochs": 1, "low_lr_epochs": 1, "denoise_epochs": 1}),
    (clustering, {"ae_epochs": 1, "repeats": 2, "pca_components": 10}),
    (vae, {"epochs": 1}),
    (lstm, {"epochs": 1, "hidden": 16}),
]


@pytest.fixture
def mnist_dir():
    from conftest import shared_subfolder

    return str(shared_subfolder("mnist"))


@pytest.mark.parametrize(("module", "extra"), CASES, ids=[c[0].EXPERIMENT.name for c in CASES])
def test_quick_run_end_to_end(module, extra, mnist_dir, tmp_path):
    exp = module.EXPERIMENT
    assert exp.make_config(quick=True).quick  # the --quick overrides validate
    config = exp.make_config(quick=True, data_dir=mnist_dir, device="cpu", **{**TINY, **extra})
    run_dir = execute(exp, config, tmp_path)
    run = load_run(run_dir)
    assert run.claims and all(c.talk and c.measured for c in run.claims)
    json.dumps(run.metrics)
    figures = drawer(exp.name)(run)
    assert figures and all(f.name.startswith(exp.name.replace("-", "_")) for f in figures)
    for f in figures:
        f.figure.savefig(tmp_path / f"{f.name}.png", dpi=30)


def test_same_config_same_metrics(mnist_dir, tmp_path):
    exp = lenet5.EXPERIMENT
    config = exp.make_config(quick=True, data_dir=mnist_dir, device="cpu", epochs=1, **TINY)
    a = load_run(execute(exp, config, tmp_path / "a"))
    b = load_run(execute(exp, config, tmp_path / "b"))
    assert a.metrics == b.metrics
    assert (a.arrays["train_loss"] == b.arrays["train_loss"]).all()


def test_registry_names_and_order():
    order = [m.EXPERIMENT for m, _ in CASES]
    assert [e.name for e in order] == [
        "mnist-mlp", "lenet5", "mnist-best", "model-zoo", "autoencoder", "clustering", "vae",
        "lstm",
    ]  # fmt: skip
    assert [e.order for e in order] == list(range(50, 130, 10))


def test_model_zoo_falls_back_to_mnist_without_fashion_mnist(mnist_dir, tmp_path, monkeypatch):
    import dataclasses

    from flowlearn.data import mnist

    spec = mnist.DATASETS["fashion-mnist"]
    gone = dataclasses.replace(spec, system_dirs=(), mirrors=((tmp_path / "no").as_uri() + "/",))
    monkeypatch.setitem(mnist.DATASETS, "fashion-mnist", gone)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("FLOWLEARN_DATA", raising=False)
    monkeypatch.setattr(mnist, "repo_data_dir", lambda: tmp_path / "nothing")
    config = model_zoo.EXPERIMENT.make_config(
        quick=True, data_dir=mnist_dir, device="cpu", n_train=64, n_test=50, epochs=1
    )
    arrays: dict = {}
    out = model_zoo._train_resnet18(config, tmp_path / "run", "cpu", arrays)
    assert out["finetune_dataset"] == "mnist"
    assert "fashion-mnist unavailable" in out["finetune_fallback_reason"]
    assert "confusion" in arrays
