"""The Zarr store of a flow dataset: created empty and whole, samples written fields first and
status last, read back lazily (:func:`load`) or verified and in memory (:func:`read`,
:func:`read_samples`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from flowlearn.data import sample_store
from flowlearn.data.flow_dataset._spec import (
    KIND,
    OK,
    PENDING,
    SCALARS,
    STATUS_NAMES,
    STORE,
    DatasetError,
    FlowDatasetSpec,
    Sample,
)
from flowlearn.data.flow_fields import FIELD_NAMES, cell_coords, channel
from flowlearn.safety.memory import require_memory
from flowlearn.safety.outputs import MARK


def _template(spec: FlowDatasetSpec):
    import dask.array as da
    import xarray as xr

    nx, ny = spec.grid
    n = spec.n

    def grid_var(dtype, attrs):
        return (("sample", "y", "x"), da.zeros((n, ny, nx), dtype=dtype, chunks=(1, ny, nx)), attrs)

    def per_sample(dtype, fill, attrs):
        return ("sample", da.full((n,), fill, dtype=dtype, chunks=(1,)), attrs)

    data = {
        "sdf": grid_var("float32", channel("sdf").attrs),
        "mask": grid_var("uint8", channel("mask").attrs),
        **{name: grid_var("float32", channel(name).attrs) for name in FIELD_NAMES},
        "re": per_sample("float64", np.nan, channel("re").attrs),
        "family": per_sample(
            "int8",
            -1,
            {
                "flag_values": list(range(len(spec.families))),
                "flag_meanings": " ".join(spec.families),
            },
        ),
        "status": per_sample(
            "int8",
            PENDING,
            {"flag_values": list(STATUS_NAMES), "flag_meanings": " ".join(STATUS_NAMES.values())},
        ),
    }
    for name in SCALARS:
        data[name] = per_sample("float64", np.nan, {})
    coords = {
        "sample": np.arange(n),
        **cell_coords(nx, ny),
    }
    attrs = {
        "title": "flowlearn steady obstacle flows",
        "source": "flowlearn lattice Boltzmann solver (D2Q9 TRT, Bouzidi walls)",
        MARK: KIND,
        **spec.to_attrs(),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _owned(attrs: dict[str, Any]) -> bool:
    """A store flowlearn made: its root attributes name the generator and a fingerprint."""
    return attrs.get(MARK) == KIND or ("fingerprint" in attrs and "generator_version" in attrs)


def _open_or_create(spec: FlowDatasetSpec, path: Path) -> None:
    """Check that ``path`` holds the dataset ``spec`` or create it empty (call it locked)."""
    if not _check_existing(spec, path):
        sample_store.create_store(_template(spec), path, _owned)


def _check_existing(spec: FlowDatasetSpec, path: Path) -> bool:
    """Whether ``path`` exists; if so, a :class:`DatasetError` unless it holds ``spec``."""
    return sample_store.check_existing(path, spec, STORE)


def _group(path: str | Path, mode: str = "r"):
    """The dataset's open Zarr group; a :class:`DatasetError` if there is none."""
    return sample_store.open_group(path, STORE, mode)


def status(path: str | Path) -> np.ndarray:
    """Status code of every sample of the dataset at ``path``; a :class:`DatasetError` names
    the samples whose status cannot be read back intact."""
    return sample_store.read_status(path, STORE)


def _write(group, spec: FlowDatasetSpec, s: Sample) -> None:
    """Store sample ``s`` into the open Zarr ``group``: fields first, its status last."""
    values: dict[str, Any] = {
        "re": s.re,
        "family": spec.families.index(s.family),
        **{name: s.scalars.get(name, np.nan) for name in SCALARS},
    }
    if s.status == OK:
        values |= {"sdf": s.sdf, "mask": s.mask.astype(np.uint8)}
        values |= {name: s.fields[k] for k, name in enumerate(FIELD_NAMES)}
    sample_store.write_sample(group, s.index, values, s.status)


def load(path: str | Path, *, only_ok: bool = True):
    """The dataset at ``path`` as an ``xarray.Dataset`` (lazy); by default only the stored
    (status ok) samples, with ``family`` decoded to names in ``family_name`` ("unknown" where
    it cannot be read). Reading a damaged chunk later raises; :func:`read` checks first."""
    import xarray as xr

    path = Path(path)
    group = _group(path)
    ds = xr.open_zarr(path, consolidated=False, chunks=None)
    codes = status(path)
    keep = np.flatnonzero(codes == OK) if only_ok else np.arange(len(codes))
    if only_ok:
        ds = ds.isel(sample=keep)
    family, bad = sample_store.read_checked(group["family"], keep)
    names = np.array([*ds.attrs["families"], "unknown"])
    family = family.astype(int)
    family[(family < 0) | (family >= len(names) - 1)] = len(names) - 1
    family[np.isin(keep, list(bad))] = len(names) - 1
    return ds.assign_coords(family_name=("sample", names[family]))


def read(path: str | Path, *, progress: Callable[[str], None] | None = None):
    """The stored samples of the dataset at ``path``, verified (:func:`verify`) and in memory:
    what training reads. A :class:`DatasetError` names the damaged samples instead."""
    from flowlearn.data.flow_dataset._integrity import verify  # which reads this module

    path = Path(path)
    integrity = verify(path, progress=progress)
    nx, ny = FlowDatasetSpec.from_attrs(dict(_group(path).attrs)).grid
    # sdf, u, v, p (float32) and mask (uint8) of every stored sample, plus the scalars
    require_memory(
        integrity.checked * (nx * ny * (4 * 4 + 1) + 8 * (len(SCALARS) + 3)),
        f"the {integrity.checked} stored samples of {path}",
        "read a smaller dataset, or on a machine with more memory",
    )
    if integrity.corrupt:
        first = next(iter(integrity.corrupt.items()))
        raise DatasetError(
            f"{path}: {len(integrity.corrupt)} stored sample(s) are damaged "
            f"({sample_store.indices_text(integrity.corrupt)}; sample {first[0]}: {first[1]}): "
            "run `flowlearn dataset generate` with the same settings to recompute them"
        )
    try:
        return load(path).load()
    except (ValueError, OSError) as exc:  # damaged between the check and this read
        raise DatasetError(f"{path}: a chunk cannot be read back intact ({exc})") from None


@dataclass
class FlowSamples:
    """Stored samples in memory, as a surrogate reads them: inputs ``x (N, 3, ny, nx)`` and
    fields ``y (N, 3, ny, nx)`` (float32, :mod:`flowlearn.data.flow_fields`), the solid ``mask
    (N, ny, nx)``, per sample ``re``, the LBM's ``cd`` / ``cl``, the body's ``ref_length``
    (cells), its ``family`` name, ``lbm_seconds``, ``steps`` and its ``index`` in the store."""

    x: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    re: np.ndarray
    cd: np.ndarray
    cl: np.ndarray
    ref_length: np.ndarray
    family: np.ndarray
    lbm_seconds: np.ndarray
    steps: np.ndarray
    index: np.ndarray

    def __len__(self) -> int:
        return len(self.re)

    @property
    def sdf(self) -> np.ndarray:
        return self.x[:, 0]

    def subset(self, idx: np.ndarray) -> FlowSamples:
        return FlowSamples(**{k: getattr(self, k)[idx] for k in self.__dataclass_fields__})


def read_samples(path: str | Path) -> FlowSamples:
    """The stored samples of the dataset at ``path``, verified (:func:`read`) and in memory."""
    from flowlearn.data.flow_fields import make_inputs

    ds = read(path)
    return FlowSamples(
        x=make_inputs(ds["sdf"].values, ds["mask"].values, ds["re"].values),
        y=np.stack([ds[k].values for k in FIELD_NAMES], axis=1).astype(np.float32),
        mask=ds["mask"].values.astype(bool),
        re=ds["re"].values,
        cd=ds["cd"].values,
        cl=ds["cl"].values,
        ref_length=ds["ref_length"].values,
        family=ds["family_name"].values.astype(str),
        lbm_seconds=ds["lbm_seconds"].values,
        steps=ds["steps"].values,
        index=ds["sample"].values,
    )


def summary(path: str | Path) -> dict[str, Any]:
    """Counts per status and family, Re range, fingerprint: what ``dataset info`` prints."""
    ds = load(path, only_ok=False)
    codes = status(path)
    ok = codes == OK
    fam = ds["family_name"].values
    seconds, _ = sample_store.read_checked(_group(path)["lbm_seconds"], np.flatnonzero(ok))
    return {
        "path": str(path),
        "fingerprint": ds.attrs["fingerprint"],
        "grid": list(ds.attrs["grid"]),
        "samples": len(codes),
        "status": {name: int((codes == c).sum()) for c, name in STATUS_NAMES.items()},
        "families": {f: int((ok & (fam == f)).sum()) for f in ds.attrs["families"]},
        "re_range": list(ds.attrs["re"]),
        "lbm_seconds_per_sample": float(np.nanmean(seconds)) if ok.any() else math.nan,
    }


def netcdf_ready(ds):
    """A copy of a loaded dataset that netCDF accepts: no Zarr encodings, bools in attrs as
    ints (``dataset export --netcdf``)."""
    ds = ds.copy()
    for var in ds.variables.values():
        var.encoding = {}
        var.attrs = {k: int(v) if isinstance(v, bool) else v for k, v in var.attrs.items()}
    ds.attrs = {k: int(v) if isinstance(v, bool) else v for k, v in ds.attrs.items()}
    return ds
