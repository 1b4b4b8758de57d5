"""The trainer every experiment uses: quiet Lightning, TensorBoard, safetensors checkpoints.

``make_trainer(run_dir, max_epochs=...)`` writes into the run directory::

    run_dir/tensorboard/                      TensorBoard event files (``tensorboard --logdir``)
    run_dir/checkpoints/last.safetensors      after every ``checkpoint_every_n_epochs`` epochs
    run_dir/checkpoints/best.safetensors      the epoch with the lowest ``val_loss`` so far

Resuming (``trainer.fit(module, ..., ckpt_path=run_dir / "checkpoints" / LAST_CHECKPOINT)`` or
:func:`fit` with ``resume_from``) continues the run as if it had never stopped: weights,
optimizer, epoch counters, history and the random generators' states all come from the file.
"""

from __future__ import annotations

import logging
import random
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint, RichProgressBar
from lightning.pytorch.loggers import TensorBoardLogger
from lightning.pytorch.utilities import rank_zero_warn
from torch.utils.data import DataLoader

from flowlearn.training._checkpoint import SafetensorsCheckpointIO
from flowlearn.training._module import SupervisedModule

# Lightning 2.6 on torch 2.13 warns about its own use of a deprecated torch pytree class on
# every fit; it is not actionable for our users, so keep it out of their terminal and run.log.
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")

CHECKPOINT_SUFFIX = ".safetensors"
LAST_CHECKPOINT = "last" + CHECKPOINT_SUFFIX
BEST_CHECKPOINT = "best" + CHECKPOINT_SUFFIX
DEVICES = ("auto", "cpu", "cuda")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch; make torch pick deterministic CPU kernels."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - third-party code may still use the global generator
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


class RandomState(Callback):
    """Saves the global random generators (Python, NumPy, torch, CUDA) in every checkpoint.

    Without it a resumed run shuffles its batches and draws its dropout masks differently from
    the uninterrupted one. The state is set back as soon as the checkpoint is read, which is
    before Lightning creates the first train-loader iterator (the shuffle seed and the loader's
    base seed are drawn from torch's generator then). Lightning's sanity check, which runs
    between the two, iterates the val loader and so also draws: this callback makes it leave the
    generators as it found them, in fresh and resumed runs alike.
    Under DDP the state of rank 0 is saved and every rank gets it back.
    """

    def __init__(self) -> None:
        self._before_sanity_check: dict[str, Any] | None = None

    def state_dict(self) -> dict[str, Any]:
        version, mt_state, gauss = random.getstate()
        state: dict[str, Any] = {
            # Python's Mersenne Twister state is 625 ints < 2**32: a tensor, not 625 JSON numbers.
            "python": {
                "version": version,
                "state": torch.tensor(mt_state, dtype=torch.int64),
                "gauss": gauss,
            },
            "numpy": np.random.get_state(legacy=False),  # noqa: NPY002 - the global one is saved
            "torch": torch.get_rng_state(),
        }
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        py = state_dict["python"]
        random.setstate((py["version"], tuple(py["state"].tolist()), py["gauss"]))
        np.random.set_state(state_dict["numpy"])  # noqa: NPY002 - restoring the global one
        torch.set_rng_state(state_dict["torch"])
        cuda = state_dict.get("cuda")
        if (
            cuda is not None
            and torch.cuda.is_available()
            and len(cuda) == torch.cuda.device_count()
        ):
            torch.cuda.set_rng_state_all(cuda)

    def on_sanity_check_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._before_sanity_check = self.state_dict()

    def on_sanity_check_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._before_sanity_check is not None:
            self.load_state_dict(self._before_sanity_check)
            self._before_sanity_check = None


class GeneratorState(Callback):
    """Saves private ``torch.Generator`` s in every checkpoint and sets them back on resume.

    :class:`RandomState` covers the global generators; a loader built with its own
    ``generator=`` (shuffling) or a dataset drawing from its own (random flips) keeps its state
    out of their reach, and a resumed run would repeat the first epoch's order and flips. Pass
    them by name: ``GeneratorState({"shuffle": loader.generator, "flips": pairs.generator})``;
    the names must be the same when the run resumes.
    """

    def __init__(self, generators: dict[str, torch.Generator | None]) -> None:
        self.generators = {k: g for k, g in generators.items() if g is not None}

    @classmethod
    def of_loader(cls, loader: DataLoader) -> GeneratorState:
        """The private generators a loader draws from: its shuffling ``generator``, and a
        ``generator`` attribute of its dataset (e.g. random flips) or of its ``collate_fn``
        (e.g. random distortions)."""
        return cls(
            {
                "shuffle": loader.generator,
                "dataset": getattr(loader.dataset, "generator", None),
                "collate": getattr(loader.collate_fn, "generator", None),
            }
        )

    @property
    def state_key(self) -> str:
        return f"GeneratorState{sorted(self.generators)}"

    def state_dict(self) -> dict[str, Any]:
        return {name: g.get_state() for name, g in self.generators.items()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        missing = set(self.generators) - set(state_dict)
        if missing:
            raise KeyError(f"the checkpoint holds no state of the generator(s) {sorted(missing)}")
        for name, g in self.generators.items():
            g.set_state(state_dict[name].to(torch.uint8).cpu())


class _SafetensorsModelCheckpoint(ModelCheckpoint):
    """``ModelCheckpoint`` writing ``*.safetensors`` files (through the trainer's CheckpointIO).

    Lightning warns in ``setup`` when the checkpoint folder is not empty, which is also the
    case of every resume into the run's own folder, and ``setup`` runs before Lightning says
    whether it resumes. The warning is held back until ``on_train_start``, after the restore, and
    given only when no checkpoint state was loaded.
    """

    FILE_EXTENSION = CHECKPOINT_SUFFIX

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._held_warning: str | None = None
        self._restored = False

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            super().setup(trainer, pl_module, stage)
        for w in caught:
            if "exists and is not empty" in str(w.message):
                self._held_warning = str(w.message)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._restored = True
        super().load_state_dict(state_dict)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        if self._held_warning and not self._restored:
            rank_zero_warn(self._held_warning)
        self._held_warning = None

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Lightning (>= 2.5) refreshes ``last`` only in an epoch that also improved ``best``:
        # after the best epoch, an interrupted run would lose every epoch since. Save it anyway.
        super().on_train_epoch_end(trainer, pl_module)
        due = (trainer.current_epoch + 1) % max(1, self._every_n_epochs) == 0
        if (
            self.save_last
            and due
            and self._should_save_on_train_epoch_end(trainer)
            and not self._should_skip_saving_checkpoint(trainer)
        ):
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when torch sees a GPU, else 'cpu'; 'cuda' without a GPU and unknown
    names are ``ValueError`` s that say what to use instead."""
    if device not in DEVICES:
        raise ValueError(f"device {device!r} unknown; choose one of {', '.join(DEVICES)}")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device 'cuda' was asked for but torch sees no CUDA device: use --device cpu "
            "(device='cpu' in Python) or auto, or install a CUDA build of torch"
        )
    return device


class _DropHardwareChatter(logging.Filter):
    # Lightning logs "GPU available: False, used: False" and its TPU/HPU siblings at INFO on
    # every Trainer (flowlearn says which device it uses itself), and an advert for its cloud
    # logger. Only these records are dropped, only while make_trainer builds the Trainer.
    PREFIXES = ("GPU available", "TPU available", "HPU available", "💡 Tip")

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.PREFIXES)


@contextmanager
def _quiet_hardware_info() -> Iterator[None]:
    log = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    chatter = _DropHardwareChatter()
    log.addFilter(chatter)
    try:
        yield
    finally:
        log.removeFilter(chatter)


def make_trainer(
    run_dir: str | Path,
    *,
    max_epochs: int,
    device: str = "auto",
    progress: bool = True,
    checkpoint_every_n_epochs: int = 1,
    extra_callbacks: Iterable[Callback] = (),
    deterministic: bool = True,
    **trainer_kwargs: Any,
) -> L.Trainer:
    """A Lightning ``Trainer`` that logs and checkpoints into ``run_dir``.

    Args:
        run_dir: the run's directory; ``tensorboard/`` and ``checkpoints/`` are made in it.
        max_epochs: epochs to train in total (a resumed run counts those already done).
        device: ``"auto"`` (CUDA when torch sees a GPU, else CPU), ``"cpu"`` or ``"cuda"`` (a
            ValueError without a GPU). One device unless ``devices=`` is passed.
        progress: show a Rich progress bar (off for tests, CI and logs).
        checkpoint_every_n_epochs: write ``last`` and update ``best`` every this many epochs;
            0 writes no checkpoint.
        extra_callbacks: more Lightning callbacks, run after flowlearn's.
        deterministic: deterministic torch kernels (bit-reproducible runs, slightly slower on GPU).
        trainer_kwargs: passed on to ``lightning.Trainer`` and override the defaults here
            (e.g. ``devices=4, strategy="ddp"``, ``gradient_clip_val=1.0``); ``plugins`` are added
            to the checkpoint plugin, ``callbacks`` are refused (use ``extra_callbacks``).

    Returns a ``lightning.Trainer``; train with ``trainer.fit(module, train_loader, val_loader)``.
    """
    if max_epochs < 1:
        raise ValueError(f"max_epochs={max_epochs} must be >= 1")
    if checkpoint_every_n_epochs < 0:
        raise ValueError(
            f"checkpoint_every_n_epochs={checkpoint_every_n_epochs} must be >= 0 (0: none)"
        )
    if "callbacks" in trainer_kwargs:
        raise TypeError("make_trainer takes callbacks through extra_callbacks=, not callbacks=")
    accelerator = resolve_device(device)
    run_dir = Path(run_dir)

    callbacks: list[Callback] = [RandomState()]
    if checkpoint_every_n_epochs:
        checkpoint = _SafetensorsModelCheckpoint(
            dirpath=run_dir / "checkpoints",
            filename="best",
            monitor="val_loss",
            mode="min",
            save_top_k=1,
            save_last=True,
            every_n_epochs=checkpoint_every_n_epochs,
            # At train-epoch end, after SupervisedModule has appended the epoch to its history
            # (at validation end, where Lightning saves by default, the history lags one epoch).
            save_on_train_epoch_end=True,
            # Fixed names: "last"/"best" are overwritten in place, never "last-v1".
            enable_version_counter=False,
        )
        callbacks.append(checkpoint)
    if progress:
        callbacks.append(RichProgressBar())
    callbacks.extend(extra_callbacks)

    plugins = [SafetensorsCheckpointIO(), *_as_list(trainer_kwargs.pop("plugins", None))]
    kwargs: dict[str, Any] = {
        "accelerator": accelerator,
        "devices": 1,
        "max_epochs": max_epochs,
        "logger": TensorBoardLogger(
            save_dir=run_dir, name="tensorboard", version="", default_hp_metric=False
        ),
        "enable_checkpointing": bool(checkpoint_every_n_epochs),
        "enable_progress_bar": progress,
        "enable_model_summary": False,
        "deterministic": deterministic,
        "default_root_dir": run_dir,
        # We log once per epoch; the default 50 only makes Lightning warn on small datasets.
        "log_every_n_steps": 1,
    }
    kwargs.update(trainer_kwargs)
    with _quiet_hardware_info():
        return L.Trainer(callbacks=callbacks, plugins=plugins, **kwargs)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def fit(
    module: SupervisedModule,
    train_loader: DataLoader,
    val_loader: DataLoader,
    run_dir: str | Path,
    *,
    max_epochs: int,
    device: str = "auto",
    resume_from: str | Path | None = None,
    progress: bool = True,
    **trainer_kwargs: Any,
) -> list[dict[str, Any]]:
    """Train ``module`` for ``max_epochs`` epochs in ``run_dir``; return its per-epoch history.

    ``resume_from``: a checkpoint to continue from (``run_dir / "checkpoints" /
    LAST_CHECKPOINT``, or ``"last"`` for the latest one in ``run_dir``); ``max_epochs`` counts
    the epochs already done, so resuming a 2-epoch checkpoint with ``max_epochs=4`` trains 2
    more. The history returned covers all epochs, those before the resume included.
    ``trainer_kwargs`` go to :func:`make_trainer` (e.g. ``devices=4, strategy="ddp_spawn"``).
    With a spawning strategy the training runs in worker processes: the weights come back
    through the checkpoints, and the history returned is rank 0's as saved in ``last``.
    The train loader's private generators (:meth:`GeneratorState.of_loader`) are saved in
    every checkpoint beside the global ones, so a resumed run draws what the uninterrupted
    one would have drawn.
    """
    generators = GeneratorState.of_loader(train_loader)
    if generators.generators:
        extra = [generators, *trainer_kwargs.pop("extra_callbacks", ())]
        trainer_kwargs["extra_callbacks"] = extra
    trainer = make_trainer(
        run_dir, max_epochs=max_epochs, device=device, progress=progress, **trainer_kwargs
    )
    trainer.fit(
        module,
        train_loader,
        val_loader,
        ckpt_path=None if resume_from is None else str(resume_from),
    )
    last = Path(run_dir) / "checkpoints" / LAST_CHECKPOINT
    if not module.history and last.exists():
        # Spawned workers trained: this process saw no epoch end; rank 0 saved them all.
        from flowlearn.training._checkpoint import load_checkpoint

        module.history = load_checkpoint(last).history
    return module.history
