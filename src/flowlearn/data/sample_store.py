"""A Zarr store of samples that returns what was written, or says which sample is damaged.

Any dataset of independent samples (steady flows today; wake snapshots or chemical states
tomorrow) can live in one Zarr v3 store whose arrays are chunked one sample per chunk along
their first axis. This module gives such a store what Zarr's own checksummed codecs, git and
safetensors users expect:

- **Checksums.** Every chunk is compressed with zstd and then sealed with a CRC32C
  (:data:`CHECKSUMMED`, Zarr v3's ``crc32c`` codec): a flipped or truncated byte fails on read
  instead of returning garbage. :func:`read_checked` reads an array in blocks and, when a block
  fails, finds the samples whose chunks are bad.
- **One writer.** :func:`store_lock` is an exclusive lock beside the store (``NAME.zarr.lock``,
  an empty file kept between runs); a second writer is refused at once with a clear message.
- **Atomic creation.** :func:`create_store` writes the empty store into ``NAME.zarr.creating``
  (marked as flowlearn's own by :data:`CREATING_MARKER`) and renames it into place. A leftover
  of a killed creation is removed only if it is provably flowlearn's; anything else is refused.
- **Resumable samples.** A store is made for a spec (any frozen description of the samples with
  ``n``, a ``fingerprint`` and ``to_attrs`` / ``from_attrs``: :class:`SampleSpec`) and holds a
  ``status`` per sample, :data:`PENDING` until the sample is written. :func:`write_sample`
  writes a sample's arrays first and its status last, so a run killed at any point leaves only
  whole samples marked done; :func:`compute_pending` computes the pending ones here or on Dask
  workers. :func:`check_existing` refuses a store made for another spec, naming what differs.
- **Stores without checksums** (written before this module) are read as before and reported
  as unverified; :func:`rewrite_with_checksums` seals them after the caller has checked them.

A kind of store (flow datasets, wake snapshots, chemical states) says what it is called and how
to make or repair one in a :class:`StoreKind`; every message then reads in its words.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Protocol

import numpy as np

#: File written first into a store being created, removed just before it is renamed.
CREATING_MARKER = ".flowlearn-creating"
#: Bytes read per block when a whole array is checked (bounds the memory of a check).
BLOCK_BYTES = 64 * 1024**2


#: Status of a sample not computed yet: every store starts with all its samples pending.
PENDING = 0


class StoreError(ValueError):
    """A store that cannot be written or trusted; the message says why and what to do."""


def checksummed_codecs() -> tuple[Any, ...]:
    """zstd, then a CRC32C of the compressed chunk (Zarr v3 ``compressors``)."""
    from zarr.codecs import Crc32cCodec, ZstdCodec

    return (ZstdCodec(), Crc32cCodec())


def encoding(ds) -> dict[str, dict[str, Any]]:
    """xarray ``to_zarr`` encoding sealing every variable (and coordinate) with a checksum."""
    return {name: {"compressors": checksummed_codecs()} for name in ds.variables}


# --------------------------------------------------------------------------------- locking


@contextlib.contextmanager
def store_lock(path: str | os.PathLike[str], what: str = "writing") -> Iterator[None]:
    """Hold the exclusive lock of the store at ``path`` (``path + ".lock"``); a second holder
    is refused at once (:class:`StoreError`), never made to wait silently."""
    from filelock import FileLock, Timeout

    path = Path(path)
    lock = FileLock(str(path.with_name(path.name + ".lock")), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise StoreError(
            f"another flowlearn process is {what} {path} (it holds {lock.lock_file}): wait for "
            "it to finish, then run this command again"
        ) from None
    try:
        yield
    finally:
        lock.release()


# -------------------------------------------------------------------------------- creation


def _root_attrs(path: Path) -> dict[str, Any]:
    try:
        body = json.loads((path / "zarr.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    attrs = body.get("attributes") if isinstance(body, dict) else None
    return attrs if isinstance(attrs, dict) else {}


def is_ours(path: Path, owned: Callable[[dict[str, Any]], bool]) -> bool:
    """Whether the folder ``path`` is a store flowlearn made: it carries the creation marker,
    or its root attributes pass ``owned``, or it is empty."""
    if not path.is_dir() or path.is_symlink():
        return False
    return (path / CREATING_MARKER).is_file() or owned(_root_attrs(path)) or not any(path.iterdir())


def create_store(
    template,
    path: str | os.PathLike[str],
    owned: Callable[[dict[str, Any]], bool],
) -> None:
    """Write the xarray Dataset ``template`` (dask-backed: only chunks of fill values are
    computed) as a new checksummed store at ``path``, atomically. Call it holding
    :func:`store_lock`. ``owned(attrs)`` recognises a leftover store of flowlearn's from its
    root attributes."""
    path = Path(path)
    tmp = path.with_name(path.name + ".creating")
    if tmp.exists() or tmp.is_symlink():
        if not is_ours(tmp, owned):
            raise StoreError(
                f"{tmp} exists and was not made by flowlearn: flowlearn never removes it; move "
                "it away, or choose another name"
            )
        shutil.rmtree(tmp)  # a killed creation of this same store: ours, provably
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp.mkdir()
    marker = tmp / CREATING_MARKER
    marker.write_text(json.dumps({"pid": os.getpid(), "target": str(path)}), encoding="utf-8")
    from zarr.errors import ZarrUserWarning

    with warnings.catch_warnings():
        # the marker is not a Zarr object; Zarr says so while it lists the new group
        warnings.filterwarnings(
            "ignore", message=".*flowlearn-creating.*", category=ZarrUserWarning
        )
        template.to_zarr(
            tmp,
            mode="a",
            compute=True,
            consolidated=False,
            zarr_format=3,
            encoding=encoding(template),
        )
    marker.unlink()
    tmp.rename(path)  # atomic: the store exists complete or not at all


# -------------------------------------------------------------------------------- checking


def has_checksums(group) -> bool:
    """Whether every array of the open Zarr ``group`` seals its chunks with a CRC32C."""
    from zarr.codecs import Crc32cCodec

    arrays = list(group.arrays())
    return bool(arrays) and all(
        any(isinstance(c, Crc32cCodec) for c in arr.compressors) for _, arr in arrays
    )


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:120]


def read_checked(array, indices: np.ndarray | None = None) -> tuple[np.ndarray, dict[int, str]]:
    """Samples ``indices`` (default: all) of the Zarr ``array`` (first axis = sample) and the
    samples whose chunks cannot be read back intact, ``{index: reason}``. Unreadable samples
    hold the array's fill value. Reads blocks of about :data:`BLOCK_BYTES`; a failed block is
    read again one sample at a time to name the bad ones."""
    n = array.shape[0]
    idx = np.arange(n) if indices is None else np.asarray(indices, dtype=int)
    per_sample = max(1, int(np.prod(array.shape[1:])) * array.dtype.itemsize)
    block = max(1, BLOCK_BYTES // per_sample)
    out = np.empty((len(idx), *array.shape[1:]), dtype=array.dtype)
    bad: dict[int, str] = {}
    fill = array.fill_value
    for s in range(0, len(idx), block):
        part = idx[s : s + block]
        try:
            if len(part) and part[-1] - part[0] + 1 == len(part):  # contiguous: one slice
                out[s : s + len(part)] = array[int(part[0]) : int(part[-1]) + 1]
            else:
                out[s : s + len(part)] = array.get_orthogonal_selection((part,))
            continue
        except Exception:
            pass
        for k, i in enumerate(part, start=s):
            try:
                out[k] = array[int(i)]
            except Exception as exc:
                bad[int(i)] = f"{array.basename}: {_reason(exc)}"
                out[k] = fill
    return out, bad


def missing_chunks(path: Path, array, indices: np.ndarray) -> list[int]:
    """Samples among ``indices`` whose chunk file of ``array`` is absent from the local store
    at ``path`` (Zarr would silently return the fill value for them)."""
    folder = Path(path) / array.path
    zeros = (0,) * (array.ndim - 1)
    return [
        int(i)
        for i in indices
        if not (folder / array.metadata.encode_chunk_key((int(i), *zeros))).is_file()
    ]


def rewrite_with_checksums(path: str | os.PathLike[str]) -> None:
    """Seal the store at ``path`` (a flowlearn store, checked by the caller, under its lock):
    every array is copied into a checksummed store beside it, which then takes its place."""
    import xarray as xr

    path = Path(path)
    tmp = path.with_name(path.name + ".sealing")
    if tmp.exists():
        if not (tmp / CREATING_MARKER).is_file():
            raise StoreError(f"{tmp} exists and was not made by flowlearn: move it away")
        shutil.rmtree(tmp)
    ds = xr.open_zarr(path, consolidated=False, chunks={})
    enc = encoding(ds)
    for name, var in ds.variables.items():
        chunks = var.encoding.get("chunks")
        var.encoding = {}  # the old codecs go; the chunking (one sample per chunk) stays
        if chunks:
            enc[name]["chunks"] = chunks
    tmp.mkdir()
    (tmp / CREATING_MARKER).write_text("{}", encoding="utf-8")
    from zarr.errors import ZarrUserWarning

    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=".*flowlearn-creating.*", category=ZarrUserWarning
        )
        ds.to_zarr(tmp, mode="a", consolidated=False, zarr_format=3, encoding=enc)
    (tmp / CREATING_MARKER).unlink()
    old = path.with_name(path.name + ".unsealed")
    path.rename(old)
    tmp.rename(path)
    shutil.rmtree(old)


# --------------------------------------------------------------------------------- samples


class SampleSpec(Protocol):
    """What decides a store's samples: ``n`` of them, named by ``fingerprint`` (equal
    fingerprints, equal data), stored in the root attributes by ``to_attrs`` (which include
    ``fingerprint``) and read back by ``from_attrs``. A frozen dataclass, as a rule."""

    n: int

    @property
    def fingerprint(self) -> str: ...

    def to_attrs(self) -> dict[str, Any]: ...

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> SampleSpec: ...


@dataclass(frozen=True)
class StoreKind:
    """A kind of store in the words of its messages: ``noun`` ("dataset"), how to ``make`` one
    ("make one with `flowlearn dataset generate`"), what ``repair``s a damaged sample
    ("`flowlearn dataset generate` recomputes them"), and the ``error`` raised."""

    noun: str
    make: str
    repair: str
    error: type[StoreError] = StoreError


def open_group(path: str | os.PathLike[str], kind: StoreKind, mode: str = "r"):
    """The open Zarr group of the store at ``path``; ``kind.error`` if there is none or it is
    not a flowlearn store (no fingerprint)."""
    import zarr

    path = Path(path)
    if not path.exists():
        raise kind.error(f"no {kind.noun} at {path}: {kind.make}")
    try:
        group = zarr.open_group(path, mode=mode)
    except Exception as exc:
        raise kind.error(
            f"{path} is not a flowlearn {kind.noun} (not a readable Zarr store: {exc})"
        ) from None
    if "fingerprint" not in group.attrs:
        raise kind.error(f"{path} is not a flowlearn {kind.noun} (no fingerprint attribute)")
    return group


def check_existing(path: str | os.PathLike[str], spec: SampleSpec, kind: StoreKind) -> bool:
    """Whether a store exists at ``path``; if one does, ``kind.error`` unless it was made for
    ``spec`` (the message names the settings that differ). flowlearn never writes into a
    store it refuses here."""
    import xarray as xr

    path = Path(path)
    if not (path.exists() or path.is_symlink()):
        return False
    try:
        attrs = xr.open_zarr(path, consolidated=False, chunks=None).attrs
    except Exception as exc:
        raise kind.error(
            f"{path} exists but is not a readable flowlearn {kind.noun} ({exc}); flowlearn "
            "never writes into it: choose another name"
        ) from None
    found = attrs.get("fingerprint")
    if found == spec.fingerprint:
        return True
    if not found:
        raise kind.error(
            f"{path} is a Zarr store but not a flowlearn {kind.noun} (no fingerprint): "
            "flowlearn never writes into it; choose another name"
        )
    try:
        old = type(spec).from_attrs(dict(attrs))
        names = [f.name for f in fields(spec)] if hasattr(spec, "__dataclass_fields__") else []
        diff = ", ".join(
            f"{k}: {getattr(old, k)!r} there, {getattr(spec, k)!r} now"
            for k in names
            if getattr(old, k) != getattr(spec, k)
        )
    except (TypeError, ValueError):  # settings this version no longer reads
        diff = ""
    raise kind.error(
        f"{path} holds a {kind.noun} made with other settings ({diff or 'generator version'}):"
        " use another name, or delete it to start again"
    )


def indices_text(indices: Mapping[int, Any] | Sequence[int], shown: int = 10) -> str:
    """``"1, 4, 9 and 3 more"``: sample indices in a message."""
    idx = sorted(indices)
    more = f" and {len(idx) - shown} more" if len(idx) > shown else ""
    return ", ".join(map(str, idx[:shown])) + more


def read_status(path: str | os.PathLike[str], kind: StoreKind) -> np.ndarray:
    """The status code of every sample of the store at ``path``; ``kind.error`` names the
    samples whose status cannot be read back intact."""
    codes, bad = read_checked(open_group(path, kind)["status"])
    if bad:
        raise kind.error(
            f"{path}: the status of sample(s) {indices_text(bad)} is damaged; {kind.repair}"
        )
    return codes


def write_sample(group, index: int, values: Mapping[str, Any], status: int) -> None:
    """Store one sample into the open Zarr ``group``: every array of ``values`` at ``index``
    first, its ``status`` last: a sample is done only once everything else is on disk."""
    for name, value in values.items():
        group[name][index] = value
    group["status"][index] = status


def compute_pending(
    compute: Callable[[Any, int], Any],
    spec: Any,
    todo: Sequence[int],
    store: Callable[[Any, int], None],
    *,
    workers: int = 1,
    scheduler: str | None = None,
) -> None:
    """``compute(spec, i)`` for each ``i`` of ``todo``, each result handed to ``store(result,
    done)`` here, in the order they finish. One worker runs them in this process; more run on
    a local Dask cluster of processes, or on the running Dask scheduler at ``scheduler``
    (``tcp://host:8786``). ``compute`` must be importable by the workers (a module-level
    function) and derive everything from ``(spec, i)``, so that a sample is the same
    whichever worker makes it."""
    if not todo:
        return
    if scheduler is None and workers <= 1:
        for done, i in enumerate(todo, 1):
            store(compute(spec, i), done)
        return
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        # ":0", a free port: None does not turn the dashboard off and falls back to :8787,
        # which warns whenever another cluster holds it (dask/distributed#8136).
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futures = client.map(compute, [spec] * len(todo), list(todo), pure=False)
        for done, fut in enumerate(as_completed(futures), 1):
            store(fut.result(), done)
            fut.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
