"""Self-describing checkpoints in one ``.safetensors`` file that loading never unpickles.

A checkpoint is a nested dict (Lightning's: ``state_dict``, ``optimizer_states``,
``lr_schedulers``, ``epoch``, ``global_step``, ``loops``, ``callbacks``, ``hyper_parameters``, ...;
or the small one :func:`save_weights` writes) plus a ``"flowlearn"`` section::

    {"version": "0.1.0",                 # flowlearn.__version__ of the writer
     "config": {...},                    # the run's config, plain JSON
     "normalisation": {"mean": tensor, "std": tensor, ...},
     "dataset_fingerprint": "sha256:..." | None,
     "history": [{"epoch": 1, "train_loss": ..., "val_loss": ..., "metrics": {...}}, ...],
     "model_prefix": "model."}           # state_dict prefix of the wrapped model, if any

On disk every tensor of the dict is a safetensors tensor named by its path
(``state_dict/model.net.0.weight``, ``optimizer_states/0/state/0/exp_avg``); the rest of the
structure is JSON in the file's metadata, under ``"flowlearn"`` (the section above) and
``"checkpoint"`` (everything else), with each tensor replaced by ``{"__tensor__": "<its key>"}``.
``safetensors`` tools read the weights; ``json.loads(metadata["flowlearn"])`` reads the section.

Integrity: the metadata also holds ``"digest"``, a SHA-256 over both JSON parts and every
tensor (name, dtype, shape, bytes). Loading recomputes it and refuses a file whose numbers or
metadata changed since it was written (a bit flip, an edit, a partial copy). Files of layout
"1" (written before the digest) are read unverified, with a warning.

What JSON cannot say is tagged, so that it comes back with its type: tuples
(``{"__tuple__": [...]}``, e.g. Adam's ``betas``), dicts with non-string keys (``{"__dict__":
[[key, value], ...]}``, e.g. the optimizer's per-parameter ``state`` keyed by int), non-finite
floats (``{"__float__": "inf"}``, e.g. ``ReduceLROnPlateau.best``), paths (``{"__path__": ...}``)
and NumPy arrays (``{"__ndarray__": key}``, stored as tensors). Two conversions lose the type and
say so here: NumPy scalars become Python scalars and enums become their ``value``. Anything else
(functions, modules, sets, arbitrary objects) raises ``TypeError`` naming its key: such a value
could only be stored by pickling code, which is what this format exists to avoid.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import torch
from lightning.pytorch.plugins.io import CheckpointIO
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from flowlearn import __version__

#: Version of the on-disk layout described in the module docstring (not flowlearn's version).
LAYOUT_VERSION = "2"
#: Layouts this flowlearn reads: "1" is layout "2" without the digest.
READABLE_LAYOUTS = ("1", "2")
SECTION = "flowlearn"

_META_FORMAT = "format"  # "pt": what Hugging Face tools expect of a torch safetensors file
_META_LAYOUT = "flowlearn_layout"
_META_SECTION = "flowlearn"
_META_REST = "checkpoint"
_META_DIGEST = "digest"

_TENSOR, _NDARRAY, _TUPLE, _DICT, _FLOAT, _PATH = (
    "__tensor__",
    "__ndarray__",
    "__tuple__",
    "__dict__",
    "__float__",
    "__path__",
)
_TAGS = frozenset({_TENSOR, _NDARRAY, _TUPLE, _DICT, _FLOAT, _PATH})


class CheckpointError(Exception):
    """A file that is not a readable flowlearn checkpoint, or one written by another version."""


class UnverifiedCheckpointWarning(UserWarning):
    """A checkpoint written before digests: its numbers cannot be checked against damage."""


def _digest(section: str, rest: str, tensors: Callable[[], Iterable[tuple[str, torch.Tensor]]]):
    """``sha256:<hex>`` over the two JSON parts and every ``(name, tensor)``, names sorted."""
    h = hashlib.sha256()
    for part in (section, rest):
        data = part.encode()
        h.update(len(data).to_bytes(8, "little") + data)
    for name, t in sorted(tensors(), key=lambda kv: kv[0]):
        head = json.dumps([name, str(t.dtype), list(t.shape)]).encode()
        h.update(len(head).to_bytes(8, "little") + head)
        h.update(t.detach().contiguous().reshape(-1).view(torch.uint8).numpy())
    return "sha256:" + h.hexdigest()


# --------------------------------------------------------------------------------------------
# Nested dict <-> (tensors, JSON)


def _key_part(key: Any) -> str:
    # Escaping "/" keeps a tensor's name a readable, unambiguous path even for dict keys that
    # hold slashes (ModelCheckpoint's ``best_k_models`` is keyed by file paths).
    return str(key).replace("%", "%25").replace("/", "%2F")


class _Encoder:
    """Turns a nested structure into JSON-able data, collecting its tensors by path-like key."""

    def __init__(self) -> None:
        self.tensors: dict[str, torch.Tensor] = {}
        self._storages: set[tuple[str, int]] = set()

    def _store(self, tensor: torch.Tensor, key: str, where: str) -> str:
        base, n = key, 0
        while key in self.tensors:  # int key 0 and str key "0" in one dict give the same path
            n += 1
            key = f"{base}~{n}"
        if tensor.is_sparse or tensor.is_quantized or tensor.layout != torch.strided:
            raise TypeError(
                f"checkpoint entry {where!r} is a {tensor.layout} tensor: only dense tensors can be"
                " stored in safetensors; call .to_dense() before saving"
            )
        tensor = tensor.detach().to("cpu").contiguous()
        storage = (str(tensor.device), tensor.untyped_storage().data_ptr())
        if tensor.numel() > 0 and storage in self._storages:
            # safetensors refuses tensors that share memory (tied weights, views): store a copy.
            tensor = tensor.clone()
        self._storages.add((str(tensor.device), tensor.untyped_storage().data_ptr()))
        self.tensors[key] = tensor
        return key

    def encode(self, value: Any, path: tuple[str, ...]) -> Any:
        where = "/".join(path) or "<root>"
        key = "/".join(_key_part(p) for p in path)
        if isinstance(value, Enum):  # before str/int: str- and int-enums are also str and int
            return self.encode(value.value, path)
        if value is None or isinstance(value, bool | int | str):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {_FLOAT: repr(value)}
        if isinstance(value, torch.Tensor):
            return {_TENSOR: self._store(value, key, where)}
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject:
                raise TypeError(f"checkpoint entry {where!r} is a NumPy array of Python objects")
            return {
                _NDARRAY: self._store(torch.from_numpy(np.ascontiguousarray(value)), key, where)
            }
        if isinstance(value, np.generic):
            return self.encode(value.item(), path)
        if isinstance(value, PurePath):
            return {_PATH: str(value)}
        if isinstance(value, tuple):  # also namedtuples and torch.Size, which come back as tuples
            return {_TUPLE: [self.encode(v, (*path, str(i))) for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [self.encode(v, (*path, str(i))) for i, v in enumerate(value)]
        if isinstance(value, Mapping):
            if all(isinstance(k, str) and not isinstance(k, Enum) for k in value) and not (
                _TAGS & set(value)
            ):
                return {k: self.encode(v, (*path, k)) for k, v in value.items()}
            pairs = []
            for k, v in value.items():
                if not (k is None or isinstance(k, bool | int | float | str | tuple | PurePath)):
                    raise TypeError(
                        f"checkpoint entry {where!r} has a key of type {type(k).__name__} "
                        f"({k!r}): keys must be str, int, float, bool, None, tuple or Path"
                    )
                pairs.append([self.encode(k, (*path, "<key>")), self.encode(v, (*path, str(k)))])
            return {_DICT: pairs}
        raise TypeError(
            f"checkpoint entry {where!r} is a {type(value).__module__}.{type(value).__qualname__}, "
            "which safetensors + JSON cannot store without pickling code: store tensors, numbers, "
            "strings, lists, tuples, dicts or paths instead"
        )


def _decode(value: Any, get_tensor: Callable[[str], torch.Tensor]) -> Any:
    if isinstance(value, list):
        return [_decode(v, get_tensor) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (tag, inner), *_ = value.items()
        if tag == _TENSOR:
            return get_tensor(inner)
        if tag == _NDARRAY:
            return get_tensor(inner).numpy()
        if tag == _TUPLE:
            return tuple(_decode(v, get_tensor) for v in inner)
        if tag == _DICT:
            return {_decode(k, get_tensor): _decode(v, get_tensor) for k, v in inner}
        if tag == _FLOAT:
            return float(inner)
        if tag == _PATH:
            return Path(inner)
    return {k: _decode(v, get_tensor) for k, v in value.items()}


def _dumps(data: Any) -> str:
    # allow_nan=False: non-finite floats are tagged, so a bare NaN here would be a bug.
    return json.dumps(data, allow_nan=False, separators=(",", ":"))


# --------------------------------------------------------------------------------------------
# The flowlearn section


def json_config(config: Any) -> dict[str, Any]:
    """``config`` as a plain JSON dict (pydantic models are dumped); raises TypeError naming the
    first key JSON cannot hold. Tuples become lists, as they will when read back."""
    if config is None:
        return {}
    if hasattr(config, "model_dump"):  # a pydantic model, e.g. an ExperimentConfig
        config = config.model_dump(mode="json")
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a dict or a pydantic model, got {type(config).__name__}")

    def check(value: Any, where: str) -> Any:
        if isinstance(value, Mapping):
            for k in value:
                if not isinstance(k, str):
                    raise TypeError(f"config key {where}/{k!r} is not a string")
            return {k: check(v, f"{where}/{k}") for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [check(v, f"{where}/{i}") for i, v in enumerate(value)]
        if isinstance(value, float) and not math.isfinite(value):
            raise TypeError(f"config entry {where!r} is {value}, which JSON cannot hold")
        if value is None or isinstance(value, bool | int | float | str):
            return value
        raise TypeError(
            f"config entry {where!r} is a {type(value).__name__}, which JSON cannot hold: store "
            "numbers, strings, lists or dicts"
        )

    return check(dict(config), "config")


def tensor_normalisation(normalisation: Mapping[str, Any] | None) -> dict[str, torch.Tensor]:
    """``normalisation`` as ``{name: CPU tensor}`` (copies; NumPy arrays and numbers accepted)."""
    out: dict[str, torch.Tensor] = {}
    for name, value in (normalisation or {}).items():
        if not isinstance(name, str):
            raise TypeError(f"normalisation names must be strings, got {name!r}")
        try:
            out[name] = torch.as_tensor(value).detach().to("cpu").clone()
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"normalisation {name!r} is not a tensor or an array: {err}") from None
    return out


def make_section(
    config: Any = None,
    normalisation: Mapping[str, Any] | None = None,
    dataset_fingerprint: str | None = None,
    history: list[dict[str, Any]] | None = None,
    model_prefix: str = "",
) -> dict[str, Any]:
    """The ``"flowlearn"`` section of a checkpoint, validated."""
    if dataset_fingerprint is not None and not isinstance(dataset_fingerprint, str):
        raise TypeError(f"dataset_fingerprint must be a str or None, got {dataset_fingerprint!r}")
    return {
        "version": __version__,
        "config": json_config(config),
        "normalisation": tensor_normalisation(normalisation),
        "dataset_fingerprint": dataset_fingerprint,
        "history": list(history or []),
        "model_prefix": model_prefix,
    }


# --------------------------------------------------------------------------------------------
# Files


def write_checkpoint(checkpoint: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write a nested checkpoint dict into one safetensors file (layout: module docstring).

    The ``"flowlearn"`` section is added if missing and its ``version`` is always this
    flowlearn's. The file is written beside ``path`` and renamed over it, so a run killed while
    saving leaves the previous checkpoint intact rather than half a file that cannot resume.
    """
    path = Path(path)
    body = dict(checkpoint)
    section = dict(body.pop(SECTION, None) or make_section())
    section["version"] = __version__
    encoder = _Encoder()
    metadata = {
        _META_FORMAT: "pt",
        _META_LAYOUT: LAYOUT_VERSION,
        _META_SECTION: _dumps(encoder.encode(section, (SECTION,))),
        _META_REST: _dumps(encoder.encode(body, ())),
    }
    metadata[_META_DIGEST] = _digest(
        metadata[_META_SECTION], metadata[_META_REST], encoder.tensors.items
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        save_file(encoder.tensors, tmp, metadata=metadata)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class _Reader:
    """An open checkpoint file: its JSON parts parsed, its tensors read on demand."""

    def __init__(self, path: Path, device: str = "cpu") -> None:
        if not path.exists():
            raise FileNotFoundError(f"checkpoint {path} does not exist")
        if not path.is_file():
            raise CheckpointError(f"{path} is not a readable flowlearn checkpoint: not a file")
        self.path = path
        try:
            self._file = safe_open(str(path), framework="pt", device=device)
            metadata = self._file.metadata() or {}
        except (SafetensorError, OSError, ValueError) as err:
            raise self.error(f"not a safetensors file ({err})") from None
        missing = [k for k in (_META_LAYOUT, _META_SECTION, _META_REST) if k not in metadata]
        if missing:
            raise self.error(
                f"a safetensors file without the flowlearn metadata {missing} (written by another "
                "tool?)"
            )
        if metadata[_META_LAYOUT] not in READABLE_LAYOUTS:
            raise self.error(
                f"layout version {metadata[_META_LAYOUT]!r}, this flowlearn reads "
                f"{' and '.join(repr(v) for v in READABLE_LAYOUTS)}"
            )
        self._metadata = metadata
        try:
            self.section = json.loads(metadata[_META_SECTION])
            self.rest = json.loads(metadata[_META_REST])
        except json.JSONDecodeError as err:
            raise self.error(f"its metadata is not valid JSON ({err})") from None
        if not isinstance(self.section, dict) or not isinstance(self.rest, dict):
            raise self.error("its metadata does not hold two JSON objects")
        self.version = self.section.get("version")

    def error(self, reason: str) -> CheckpointError:
        return CheckpointError(f"{self.path} is not a readable flowlearn checkpoint: {reason}")

    def check_version(self, allow_mismatch: bool) -> None:
        if self.version != __version__ and not allow_mismatch:
            raise CheckpointError(
                f"{self.path} was written by flowlearn {self.version}, this is flowlearn "
                f"{__version__}: results may differ; to load it anyway, add "
                "--allow-version-mismatch to the command (Python: allow_version_mismatch=True)"
            )

    def verify(self) -> None:
        """Recompute the digest over everything in the file; refuse a file that changed."""
        meta = self._metadata
        expected = meta.get(_META_DIGEST)
        if expected is None:
            if meta[_META_LAYOUT] == LAYOUT_VERSION:
                raise self.error("its digest is missing (the metadata was edited)")
            warnings.warn(
                f"{self.path} was written before checkpoints carried a digest: its numbers "
                "cannot be checked against damage",
                UnverifiedCheckpointWarning,
                stacklevel=3,
            )
            return

        def tensors():
            for name in self._file.keys():
                yield name, self._file.get_tensor(name)

        try:
            found = _digest(meta[_META_SECTION], meta[_META_REST], tensors)
        except (SafetensorError, OSError, ValueError, RuntimeError) as err:
            raise self.error(f"a tensor cannot be read ({err})") from None
        if found != expected:
            raise self.error(
                "its contents do not match the digest written with it: the file was damaged "
                "or edited after it was saved"
            )

    def decode(self, value: Any) -> Any:
        try:
            return _decode(value, self._file.get_tensor)
        except (SafetensorError, KeyError, TypeError, ValueError) as err:
            raise self.error(f"a tensor or entry cannot be read ({err})") from None

    def read_all(self) -> dict[str, Any]:
        checkpoint = self.decode(self.rest)
        checkpoint[SECTION] = self.decode(self.section)
        return checkpoint


# --------------------------------------------------------------------------------------------
# Public API


@dataclass
class Checkpoint:
    """What inference needs from a checkpoint, read without Lightning and without pickle.

    Attributes:
        state_dict: the plain model's weights (``model.load_state_dict(ckpt.state_dict)``); a
            :class:`~flowlearn.training.SupervisedModule` checkpoint has its ``model.`` prefix
            removed.
        config: the run's config (JSON: tuples were stored as lists).
        normalisation: statistics the inputs/outputs were normalised with, ``{name: tensor}``.
        dataset_fingerprint: identifies the training data, or None.
        version: flowlearn version that wrote the file.
        epoch: Lightning's epoch counter when it was written (0-based index of the epoch that was
            running), None for :func:`save_weights` files.
        global_step: optimizer steps taken, None for :func:`save_weights` files.
        history: per-epoch learning curve (see ``SupervisedModule.history``), [] if none.
    """

    state_dict: dict[str, torch.Tensor]
    config: dict[str, Any]
    normalisation: dict[str, torch.Tensor]
    dataset_fingerprint: str | None
    version: str
    epoch: int | None = None
    global_step: int | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


def load_checkpoint(
    path: str | os.PathLike[str], *, allow_version_mismatch: bool = False
) -> Checkpoint:
    """Read a flowlearn checkpoint (Lightning's or :func:`save_weights`'s) onto the CPU.

    Only the weights and the flowlearn section are read; optimizer states are left on disk.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        CheckpointError: the file is truncated, corrupted, edited (its digest does not match)
            or not a flowlearn safetensors file, or it was written by another flowlearn
            version and ``allow_version_mismatch`` is False.
    """
    reader = _Reader(Path(path))
    reader.check_version(allow_version_mismatch)
    reader.verify()
    section = reader.decode(reader.section)
    state_dict = reader.decode(reader.rest.get("state_dict", {}))
    prefix = section.get("model_prefix") or ""
    if prefix:
        state_dict = {k[len(prefix) :]: v for k, v in state_dict.items() if k.startswith(prefix)}
    epoch, step = reader.rest.get("epoch"), reader.rest.get("global_step")
    return Checkpoint(
        state_dict=state_dict,
        config=section.get("config") or {},
        normalisation=section.get("normalisation") or {},
        dataset_fingerprint=section.get("dataset_fingerprint"),
        version=str(reader.version),
        epoch=epoch if isinstance(epoch, int) else None,
        global_step=step if isinstance(step, int) else None,
        history=section.get("history") or [],
    )


def save_weights(
    path: str | os.PathLike[str],
    model: torch.nn.Module,
    config: Any = None,
    normalisation: Mapping[str, Any] | None = None,
    dataset_fingerprint: str | None = None,
) -> Path:
    """Save a plain model's weights with the flowlearn section; :func:`load_checkpoint` reads it.

    Args:
        path: target file, conventionally ``*.safetensors``; parent folders are created.
        model: any ``torch.nn.Module``; its ``state_dict()`` is stored.
        config: a JSON-able dict or a pydantic model (dumped with ``mode="json"``).
        normalisation: ``{name: tensor or array}``, e.g. ``{"mean": (C,), "std": (C,)}``.
        dataset_fingerprint: identifies the training data, or None.

    Returns the path written.
    """
    section = make_section(config, normalisation, dataset_fingerprint)
    write_checkpoint({"state_dict": model.state_dict(), SECTION: section}, path)
    return Path(path)


class SafetensorsCheckpointIO(CheckpointIO):
    """Lightning ``CheckpointIO`` that reads and writes checkpoints as one ``.safetensors`` file.

    Pass it to the trainer (``Trainer(plugins=[SafetensorsCheckpointIO()])``;
    :func:`~flowlearn.training.make_trainer` does) and every checkpoint Lightning saves, and every
    ``trainer.fit(..., ckpt_path=...)`` resume, goes through safetensors + JSON: nothing is
    pickled either way. Layout and the types it can hold: see this module's docstring.

    Args:
        allow_version_mismatch: resume from a checkpoint written by another flowlearn version
            (refused by default: the code that produced it may have changed).

    ``LightningModule.load_from_checkpoint`` does not go through this plugin (it calls
    ``torch.load``); use :func:`~flowlearn.training.load_checkpoint` to read weights.
    """

    def __init__(self, *, allow_version_mismatch: bool = False) -> None:
        self.allow_version_mismatch = allow_version_mismatch

    def save_checkpoint(
        self,
        checkpoint: dict[str, Any],
        path: str | os.PathLike[str],
        storage_options: Any | None = None,
    ) -> None:
        if storage_options is not None:
            raise TypeError(
                "SafetensorsCheckpointIO.save_checkpoint takes no storage_options, got "
                f"{storage_options!r}"
            )
        write_checkpoint(checkpoint, path)

    def load_checkpoint(
        self,
        path: str | os.PathLike[str],
        map_location: Any | None = None,
        weights_only: bool | None = None,
    ) -> dict[str, Any]:
        # weights_only is about restricting unpickling; nothing is unpickled here, so it is moot.
        if map_location is None:
            device = "cpu"
        elif isinstance(map_location, str | torch.device):
            device = str(map_location)
        else:
            raise TypeError(
                f"SafetensorsCheckpointIO loads onto one device (a str or torch.device); got "
                f"map_location={map_location!r}"
            )
        reader = _Reader(Path(path), device=device)
        reader.check_version(self.allow_version_mismatch)
        reader.verify()
        return reader.read_all()

    def remove_checkpoint(self, path: str | os.PathLike[str]) -> None:
        Path(path).unlink(missing_ok=True)
