"""Exact resume with the loaders the experiments really use.

The experiments shuffle with private seeded generators and draw random flips (flow surrogate)
or distortions (LeNet-5, the best MNIST net) from generators of their own, which the global
random state does not cover. A run stopped after 2 of 4 epochs and resumed from its last
checkpoint must end with the weights of the run that never stopped.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import Callback

from flowlearn.training import load_checkpoint


class _StopAfter(Callback):
    """Ends the training after ``epochs`` epochs, as a killed job would (its last checkpoint is
    written at the end of each epoch)."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if trainer.current_epoch + 1 >= self.epochs:
            trainer.should_stop = True


def _interrupting(monkeypatch, module, epochs: int) -> list[int]:
    """Make ``module.fit`` stop after ``epochs`` epochs on its next call only; returns the list
    of calls made since."""
    real_fit, calls = module.fit, []

    def fit(*args, **kwargs):
        if not calls:
            kwargs["extra_callbacks"] = [_StopAfter(epochs)]
        calls.append(1)
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(module, "fit", fit)
    return calls


def _weights(path):
    return load_checkpoint(path).state_dict


def _assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=0, atol=0, msg=name)


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Every test here runs on one torch thread (conftest.one_torch_thread)."""


def _surrogate_data(n: int, seed: int):
    from flowlearn.data.flow_dataset import FlowSamples
    from flowlearn.data.flow_fields import make_inputs

    rng = np.random.default_rng(seed)
    ny, nx = 16, 32
    sdf = rng.normal(size=(n, ny, nx)).astype(np.float32)
    mask = sdf < -1.0
    re = rng.uniform(10, 40, size=n)
    y = rng.normal(size=(n, 3, ny, nx)).astype(np.float32)
    blank = np.zeros(n)
    return FlowSamples(
        x=make_inputs(sdf, mask, re), y=y, mask=mask, re=re, cd=blank, cl=blank,
        ref_length=blank + 4, family=np.array(["circle"] * n), lbm_seconds=blank, steps=blank,
        index=np.arange(n),
    )  # fmt: skip


def test_flow_surrogate_member_resumes_exactly(tmp_path, monkeypatch):
    from flowlearn.data.flow_fields import Normaliser
    from flowlearn.training import ensemble

    plan = ensemble.EnsemblePlan(grid=(32, 16), width=4, batch_size=4, mirror=True)
    train, val = _surrogate_data(12, 0), _surrogate_data(4, 1)
    norm = Normaliser.fit(train.x, train.y, train.re)

    def member(run_dir, epochs):
        folder = run_dir / "models" / "unet-0"
        ensemble.train_member(
            plan, "unet", 0, norm, train, val, folder, epochs=epochs, device="cpu"
        )
        return folder / "checkpoints" / "last.safetensors"

    straight = _weights(member(tmp_path / "straight", 4))
    calls = _interrupting(monkeypatch, ensemble, 2)
    stopped = member(tmp_path / "resumed", 4)
    assert load_checkpoint(stopped).epoch == 1, "the first call stopped after 2 epochs"
    torch.manual_seed(999)  # a new process: other global state, which the checkpoint overrides
    resumed = _weights(member(tmp_path / "resumed", 4))
    assert len(calls) == 2 and load_checkpoint(stopped).epoch == 3
    _assert_same_weights(straight, resumed)


def test_mnist_loader_with_distortions_resumes_exactly(tmp_path, monkeypatch):
    from flowlearn.data.mnist import RandomAffine
    from flowlearn.experiments.fundamentals import _mnist as M
    from flowlearn.models.mlp import MLP
    from flowlearn.training import SupervisedModule

    g = torch.Generator().manual_seed(0)
    x = torch.rand(40, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (40,), generator=g)

    def run(run_dir, epochs):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Flatten(), MLP(784, (16,), 10))
        module = SupervisedModule(model, loss="cross_entropy", lr=0.01)
        distort = RandomAffine(10, 0.1, 2, seed=3)
        train = M.loader(x[:32], y[:32], 8, True, seed=3, collate_fn=distort)
        test = M.loader(x[32:], y[32:], 8, shuffle=False)
        M.train(module, train, test, run_dir, epochs, "cpu")
        return run_dir / "checkpoints" / "last.safetensors"

    straight = _weights(run(tmp_path / "straight", 4))
    _interrupting(monkeypatch, M, 2)
    assert load_checkpoint(run(tmp_path / "resumed", 4)).epoch == 1
    resumed = _weights(run(tmp_path / "resumed", 4))
    _assert_same_weights(straight, resumed)
