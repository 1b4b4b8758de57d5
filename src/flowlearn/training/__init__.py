"""Training: a Lightning trainer, a supervised LightningModule and pickle-free checkpoints.

Typical use::

    from flowlearn.training import SupervisedModule, fit, load_checkpoint

    module = SupervisedModule(model, loss="mse", config=config, normalisation=stats)
    history = fit(module, train_loader, val_loader, run_dir, max_epochs=20)
    ckpt = load_checkpoint(run_dir / "checkpoints" / "best.safetensors")
    model.load_state_dict(ckpt.state_dict)
"""

from flowlearn.training._checkpoint import (
    Checkpoint,
    CheckpointError,
    SafetensorsCheckpointIO,
    UnverifiedCheckpointWarning,
    load_checkpoint,
    save_weights,
)
from flowlearn.training._module import SupervisedModule
from flowlearn.training._trainer import (
    BEST_CHECKPOINT,
    LAST_CHECKPOINT,
    GeneratorState,
    RandomState,
    fit,
    make_trainer,
    resolve_device,
    seed_everything,
)

__all__ = [
    "BEST_CHECKPOINT",
    "LAST_CHECKPOINT",
    "Checkpoint",
    "CheckpointError",
    "GeneratorState",
    "RandomState",
    "SafetensorsCheckpointIO",
    "SupervisedModule",
    "UnverifiedCheckpointWarning",
    "fit",
    "load_checkpoint",
    "make_trainer",
    "resolve_device",
    "save_weights",
    "seed_everything",
]
