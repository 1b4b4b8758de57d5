"""flowlearn.training: safetensors checkpoints, train/val reporting, exact resume, errors.

A tiny MLP on 48 random points (32 train, 16 val, batches of 8) for a few epochs on the CPU.
"""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import Callback
from safetensors import safe_open
from torch.utils.data import DataLoader, TensorDataset

import flowlearn
from conftest import safetensors_parts, write_safetensors_parts
from flowlearn.models.mlp import MLP
from flowlearn.training import (
    LAST_CHECKPOINT,
    CheckpointError,
    SafetensorsCheckpointIO,
    SupervisedModule,
    _checkpoint,
    fit,
    load_checkpoint,
    make_trainer,
    save_weights,
)

CONFIG = {"model": {"hidden": [8], "activation": "tanh"}, "lr": 0.01, "name": "tiny"}
NORMALISATION = {"mean": torch.tensor([0.5, -1.0]), "std": torch.tensor([2.0, 3.0])}
FINGERPRINT = "sha256:0123abcd"


def _mae(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (pred - target).abs().mean()


def _setup(
    seed: int = 0, schedule: str = "constant"
) -> tuple[SupervisedModule, DataLoader, DataLoader]:
    """Same seed, same module, data and shuffling."""
    torch.manual_seed(seed)
    x = torch.randn(48, 2)
    y = torch.sin(x[:, :1]) + 0.5 * x[:, 1:]
    module = SupervisedModule(
        MLP(2, (8,)),
        loss="mse",
        optimizer="adam",
        lr=0.01,
        schedule=schedule,
        # Dropout-free MLP: the shuffled train loader is what needs the RNG state on resume.
        metrics={"mae": _mae},
        config=CONFIG,
        normalisation=NORMALISATION,
        dataset_fingerprint=FINGERPRINT,
    )
    train = DataLoader(TensorDataset(x[:32], y[:32]), batch_size=8, shuffle=True)
    val = DataLoader(TensorDataset(x[32:], y[32:]), batch_size=8)
    return module, train, val


@pytest.fixture(scope="module")
def straight(tmp_path_factory: pytest.TempPathFactory) -> tuple[SupervisedModule, Path]:
    """4 epochs without interruption; shared by the tests that only read its outputs."""
    run_dir = tmp_path_factory.mktemp("straight")
    module, train, val = _setup()
    fit(module, train, val, run_dir, max_epochs=4, device="cpu", progress=False)
    return module, run_dir


@pytest.fixture
def no_unpickling(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("a flowlearn checkpoint must load without torch.load or pickle")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)


def test_history_reports_train_and_val_every_epoch(straight):
    module, _ = straight
    assert [row["epoch"] for row in module.history] == [1, 2, 3, 4]
    for row in module.history:
        assert math.isfinite(row["train_loss"]) and math.isfinite(row["val_loss"])
        assert set(row["metrics"]) == {"train_mae", "val_mae"}
    # The val loss is the mean over the whole val loader: recompute it with the final weights.
    _, _, val = _setup()
    with torch.no_grad():
        errors = torch.cat([(module.model(x) - y) ** 2 for x, y in val])
    assert module.history[-1]["val_loss"] == pytest.approx(errors.mean().item(), rel=1e-6)
    assert module.history[-1]["train_loss"] < module.history[0]["train_loss"]


def test_tensorboard_and_checkpoint_files(straight):
    _, run_dir = straight
    assert list((run_dir / "tensorboard").rglob("events.out.tfevents.*"))
    names = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert names == ["best.safetensors", "last.safetensors"]


def test_checkpoint_is_plain_safetensors_with_flowlearn_metadata(straight):
    _, run_dir = straight
    with safe_open(str(run_dir / "checkpoints" / LAST_CHECKPOINT), framework="pt") as f:
        metadata = f.metadata()
        keys = set(f.keys())
    section = json.loads(metadata["flowlearn"])
    assert section["version"] == flowlearn.__version__
    assert section["config"] == CONFIG
    assert section["dataset_fingerprint"] == FINGERPRINT
    assert section["normalisation"]["mean"] == {"__tensor__": "flowlearn/normalisation/mean"}
    assert len(section["history"]) == 4
    assert "state_dict/model.net.0.weight" in keys
    assert "optimizer_states/0/state/0/exp_avg" in keys
    rest = json.loads(metadata["checkpoint"])
    assert rest["global_step"] == 16 and rest["epoch"] == 3  # Lightning's 0-based epoch index


def test_load_checkpoint_round_trips_without_unpickling(straight, no_unpickling):
    module, run_dir = straight
    ckpt = load_checkpoint(run_dir / "checkpoints" / LAST_CHECKPOINT)
    model_state = module.model.state_dict()
    assert ckpt.state_dict.keys() == model_state.keys()
    for name, value in model_state.items():
        assert torch.equal(ckpt.state_dict[name], value)
    assert ckpt.config == CONFIG
    assert ckpt.normalisation.keys() == NORMALISATION.keys()
    for name, value in NORMALISATION.items():
        assert torch.equal(ckpt.normalisation[name], value)
    assert ckpt.dataset_fingerprint == FINGERPRINT
    assert ckpt.version == flowlearn.__version__
    assert (ckpt.epoch, ckpt.global_step) == (3, 16)
    assert ckpt.history == module.history
    fresh = MLP(2, (8,))
    fresh.load_state_dict(ckpt.state_dict)


def test_resume_matches_uninterrupted_run(straight, tmp_path, no_unpickling):
    """2 epochs, then 2 more from ``last``: the same weights and history as 4 in one go."""
    module_a, _ = straight
    module_b, train, val = _setup()
    fit(module_b, train, val, tmp_path, max_epochs=2, device="cpu", progress=False)
    # A fresh process would rebuild the module and data from the config: do the same, and move
    # the global random state on, which the checkpoint must override.
    module_c, train, val = _setup()
    torch.manual_seed(1234)
    trainer = make_trainer(tmp_path, max_epochs=4, device="cpu", progress=False)
    trainer.fit(module_c, train, val, ckpt_path=tmp_path / "checkpoints" / LAST_CHECKPOINT)
    assert trainer.current_epoch == 4
    assert len(module_c.history) == 4
    for (name, a), c in zip(
        module_a.model.state_dict().items(), module_c.model.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(c, a, rtol=0, atol=1e-6, msg=name)
    for row_a, row_c in zip(module_a.history, module_c.history, strict=True):
        assert row_c["epoch"] == row_a["epoch"]
        assert row_c["train_loss"] == pytest.approx(row_a["train_loss"], abs=1e-6)
        assert row_c["val_loss"] == pytest.approx(row_a["val_loss"], abs=1e-6)


class _StopAfter(Callback):
    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if trainer.current_epoch + 1 >= self.epochs:
            trainer.should_stop = True


def test_cosine_schedule_anneals_to_zero_and_resumes_exactly(tmp_path):
    """The cosine schedule ends at lr 0 after max_epochs, and its state survives a resume."""
    straight_dir, split_dir = tmp_path / "a", tmp_path / "b"
    module_a, train, val = _setup(schedule="cosine")
    trainer = make_trainer(straight_dir, max_epochs=4, device="cpu", progress=False)
    trainer.fit(module_a, train, val)
    lrs = [g["lr"] for g in trainer.optimizers[0].param_groups]
    assert lrs == pytest.approx([0.0], abs=1e-12)
    # An interrupted 4-epoch run: stopped after epoch 2, so its schedule spans 4 epochs.
    module_b, train, val = _setup(schedule="cosine")
    stop = _StopAfter(2)
    trainer = make_trainer(
        split_dir, max_epochs=4, device="cpu", progress=False, extra_callbacks=[stop]
    )
    trainer.fit(module_b, train, val)
    assert len(module_b.history) == 2
    module_c, train, val = _setup(schedule="cosine")
    fit(
        module_c,
        train,
        val,
        split_dir,
        max_epochs=4,
        device="cpu",
        progress=False,
        resume_from=split_dir / "checkpoints" / LAST_CHECKPOINT,
    )
    for a, c in zip(
        module_a.model.state_dict().values(), module_c.model.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(c, a, rtol=0, atol=1e-6)


def test_save_weights_round_trip_with_awkward_values(tmp_path):
    model = MLP(3, (4,), out_features=2)
    path = save_weights(
        tmp_path / "w.safetensors",
        model,
        config={"widths": (4,), "eps": 1e-12},
        normalisation={"std": np.array([1.0, 2.0, 3.0])},
        dataset_fingerprint=None,
    )
    ckpt = load_checkpoint(path)
    assert ckpt.config == {"widths": [4], "eps": 1e-12}  # JSON: tuples come back as lists
    assert torch.equal(
        ckpt.normalisation["std"], torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    )
    assert (ckpt.epoch, ckpt.global_step, ckpt.dataset_fingerprint) == (None, None, None)
    for name, value in model.state_dict().items():
        assert torch.equal(ckpt.state_dict[name], value)


def test_plugin_round_trips_the_types_lightning_uses(tmp_path):
    """Tuples, int keys, inf, paths, NumPy values, tied tensors and tag-like keys survive."""
    shared = torch.arange(6.0)
    checkpoint = {
        "epoch": 3,
        "optimizer_states": [{"state": {0: {"step": torch.tensor(5.0)}}, "betas": (0.9, 0.999)}],
        "best": float("inf"),
        "nan": float("nan"),
        "dirpath": Path("/runs/x"),
        "np": {"scalar": np.float32(0.5), "array": np.arange(3, dtype=np.uint8)},
        "tied": {"a": shared, "b": shared, "view": shared[2:4]},
        "paths/with/slashes": {"/a/b.safetensors": torch.ones(1), "0": 1, 0: 2},
        "__tensor__": "not a tensor",
    }
    io = SafetensorsCheckpointIO()
    io.save_checkpoint(checkpoint, tmp_path / "c.safetensors")
    back = io.load_checkpoint(tmp_path / "c.safetensors")
    assert back["optimizer_states"][0]["state"][0]["step"].item() == 5.0
    assert back["optimizer_states"][0]["betas"] == (0.9, 0.999)
    assert back["best"] == math.inf and math.isnan(back["nan"])
    assert back["dirpath"] == Path("/runs/x")
    assert back["np"]["scalar"] == 0.5
    assert back["np"]["array"].dtype == np.uint8 and back["np"]["array"].tolist() == [0, 1, 2]
    assert torch.equal(back["tied"]["b"], shared) and torch.equal(back["tied"]["view"], shared[2:4])
    assert back["paths/with/slashes"]["0"] == 1 and back["paths/with/slashes"][0] == 2
    assert back["__tensor__"] == "not a tensor"
    assert back["flowlearn"]["version"] == flowlearn.__version__
    io.remove_checkpoint(tmp_path / "c.safetensors")
    assert not (tmp_path / "c.safetensors").exists()


def test_unsupported_value_names_its_key(tmp_path):
    with pytest.raises(TypeError, match="hyper_parameters/loss"):
        SafetensorsCheckpointIO().save_checkpoint(
            {"hyper_parameters": {"loss": lambda p, t: p}}, tmp_path / "c.safetensors"
        )
    assert not list(tmp_path.iterdir())  # nothing half-written left behind
    with pytest.raises(TypeError, match="config entry 'config/f'"):
        SupervisedModule(MLP(2), config={"f": object()})


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.safetensors"):
        load_checkpoint(tmp_path / "nope.safetensors")


@pytest.mark.parametrize("damage", ["truncate", "garbage", "foreign"])
def test_unreadable_file_raises_checkpoint_error(tmp_path, damage):
    path = tmp_path / "w.safetensors"
    save_weights(path, MLP(2, (4,)))
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) - 7])
    elif damage == "garbage":
        path.write_bytes(b"PK\x03\x04 this is a torch zip, not safetensors" * 10)
    else:  # a valid safetensors file from another tool
        from safetensors.torch import save_file

        save_file({"w": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError, match="is not a readable flowlearn checkpoint") as err:
        load_checkpoint(path)
    assert str(path) in str(err.value)


def test_version_mismatch(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    monkeypatch.setattr(_checkpoint, "__version__", "0.0.1")
    save_weights(path, MLP(2, (4,)))
    monkeypatch.undo()
    with pytest.raises(CheckpointError, match=r"0\.0\.1") as err:
        load_checkpoint(path)
    assert flowlearn.__version__ in str(err.value)
    with pytest.raises(CheckpointError, match=r"0\.0\.1"):
        SafetensorsCheckpointIO().load_checkpoint(path)
    assert load_checkpoint(path, allow_version_mismatch=True).version == "0.0.1"


def test_cuda_without_cuda_is_a_value_error(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="cuda"):
        make_trainer(tmp_path, max_epochs=1, device="cuda")
    with pytest.raises(ValueError, match="tpu"):
        make_trainer(tmp_path, max_epochs=1, device="tpu")


def test_bad_module_arguments():
    with pytest.raises(ValueError, match="mse"):
        SupervisedModule(MLP(2), loss="l1")
    with pytest.raises(ValueError, match="adadelta"):
        SupervisedModule(MLP(2), optimizer="rmsprop")
    with pytest.raises(ValueError, match="cosine"):
        SupervisedModule(MLP(2), schedule="step")
    with pytest.raises(ValueError, match="lr=-1"):
        SupervisedModule(MLP(2), lr=-1)


def test_two_process_ddp_trains_and_returns_rank_zero_history(tmp_path):
    """Lightning's DDP with spawned processes (2 CPU ranks, gloo): no code change in fit, the
    history and the weights come back to this process."""
    module, train, val = _setup()
    before = [p.detach().clone() for p in module.model.parameters()]
    history = fit(
        module,
        train,
        val,
        tmp_path,
        max_epochs=2,
        device="cpu",
        progress=False,
        devices=2,
        strategy="ddp_spawn",
    )
    assert [row["epoch"] for row in history] == [1, 2]
    assert all(math.isfinite(row["val_loss"]) for row in history)
    after = list(module.model.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))
    ckpt = load_checkpoint(tmp_path / "checkpoints" / LAST_CHECKPOINT)
    assert [row["epoch"] for row in ckpt.history] == [1, 2]


def test_last_checkpoint_follows_every_epoch_even_without_improvement(tmp_path):
    """``last`` holds the latest epoch even when ``best`` stopped improving: a run killed after
    its best epoch loses nothing."""
    module, train, val = _setup()
    module.lr = 1e-30  # the weights do not move: the val loss never improves after epoch 1
    fit(module, train, val, tmp_path, max_epochs=4, device="cpu", progress=False)
    last = load_checkpoint(tmp_path / "checkpoints" / LAST_CHECKPOINT)
    best = load_checkpoint(tmp_path / "checkpoints" / "best.safetensors")
    assert [row["epoch"] for row in last.history] == [1, 2, 3, 4]
    assert len(best.history) < 4


# ------------------------------------------------------------------------------ integrity
def test_checkpoint_carries_a_digest_of_everything(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(path, MLP(2, (4,)), config=CONFIG, normalisation=NORMALISATION)
    header, _ = safetensors_parts(path)
    assert header["__metadata__"]["flowlearn_layout"] == "2"
    assert header["__metadata__"]["digest"].startswith("sha256:")
    assert load_checkpoint(path).config == CONFIG  # verifies, and passes


def test_damaged_numbers_are_refused(tmp_path):
    """A zeroed normalisation deviation gave NaN fields and exit 0: now the digest fails."""
    path = tmp_path / "w.safetensors"
    save_weights(path, MLP(2, (4,)), normalisation=NORMALISATION)
    header, body = safetensors_parts(path)
    start, end = header["flowlearn/normalisation/std"]["data_offsets"]
    write_safetensors_parts(path, header, body[:start] + bytes(end - start) + body[end:])
    with pytest.raises(CheckpointError, match="do not match the digest written with it"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="do not match the digest"):
        SafetensorsCheckpointIO().load_checkpoint(path)


def test_edited_metadata_is_refused(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(path, MLP(2, (4,)), config={"surrogate": {"architecture": "unet", "width": 4}})
    header, body = safetensors_parts(path)
    meta = header["__metadata__"]
    meta["flowlearn"] = meta["flowlearn"].replace('"width":4', '"width":4096')
    write_safetensors_parts(path, header, body)
    with pytest.raises(CheckpointError, match="damaged or edited after it was saved"):
        load_checkpoint(path)
    del meta["digest"]  # removing the digest does not make it pass either
    write_safetensors_parts(path, header, body)
    with pytest.raises(CheckpointError, match="its digest is missing"):
        load_checkpoint(path)


def test_a_checkpoint_before_digests_loads_unverified(tmp_path):
    path = tmp_path / "w.safetensors"
    model = MLP(2, (4,))
    save_weights(path, model)
    header, body = safetensors_parts(path)
    header["__metadata__"]["flowlearn_layout"] = "1"
    del header["__metadata__"]["digest"]
    write_safetensors_parts(path, header, body)
    with pytest.warns(_checkpoint.UnverifiedCheckpointWarning, match="before checkpoints carried"):
        ckpt = load_checkpoint(path)
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(ckpt.state_dict[name], tensor)


def test_version_message_names_the_command_line_option(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    monkeypatch.setattr(_checkpoint, "__version__", "0.0.1")
    save_weights(path, MLP(2, (4,)))
    monkeypatch.undo()
    with pytest.raises(CheckpointError, match="add --allow-version-mismatch to the command"):
        load_checkpoint(path)
