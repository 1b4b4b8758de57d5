"""The sample store serves any kind of independent samples, not only steady 2-D flows: a toy
store of chemical states (one mass-fraction vector per sample) is created for its spec, filled
in part, resumed without recomputing what is done, refuses another spec by name, and names the
sample whose chunk was damaged."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from flowlearn.data import sample_store as ss

SPECIES = ("H2", "O2", "H2O", "OH", "N2")
OK = 1
KIND = ss.StoreKind(
    "state table",
    make="make one with `states generate`",
    repair="`states generate` recomputes them",
)


@dataclass(frozen=True)
class StatesSpec:
    n: int = 6
    temperature: float = 1500.0
    seed: int = 0

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()

    def to_attrs(self) -> dict[str, Any]:
        return {**asdict(self), "fingerprint": self.fingerprint, "generator_version": 1}

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> StatesSpec:
        return cls(**{k: v for k, v in attrs.items() if k in cls.__dataclass_fields__})


def compute_state(spec: StatesSpec, i: int) -> tuple[int, np.ndarray]:
    """Mass fractions summing to one, from the stream (seed, i): the same on any worker."""
    y = np.random.default_rng([spec.seed, i]).dirichlet(np.ones(len(SPECIES)))
    return i, y.astype(np.float64)


def template(spec: StatesSpec):
    import dask.array as da
    import xarray as xr

    data = {
        "mass_fraction": (
            ("sample", "species"),
            da.full((spec.n, len(SPECIES)), np.nan, chunks=(1, len(SPECIES))),
        ),
        "status": ("sample", da.full((spec.n,), ss.PENDING, dtype="int8", chunks=(1,))),
    }
    attrs = {"flowlearn_output": "states", "species": " ".join(SPECIES), **spec.to_attrs()}
    return xr.Dataset(data, attrs=attrs)


def fill(spec: StatesSpec, path: Path, stop_after: int | None = None) -> list[int]:
    """Create or resume the store and compute its pending samples; returns those computed."""
    import zarr

    with ss.store_lock(path, "filling"):
        if not ss.check_existing(path, spec, KIND):
            ss.create_store(template(spec), path, lambda a: a.get("flowlearn_output") == "states")
        todo = [int(i) for i in np.flatnonzero(ss.read_status(path, KIND) == ss.PENDING)]
        group = zarr.open_group(path, mode="r+")
        computed: list[int] = []

        def store(result, done: int) -> None:
            i, y = result
            ss.write_sample(group, i, {"mass_fraction": y}, OK)
            computed.append(i)
            if stop_after is not None and done == stop_after:
                raise KeyboardInterrupt  # a run killed after `stop_after` samples

        ss.compute_pending(compute_state, spec, todo, store)
    return computed


def test_a_store_of_another_kind_resumes_where_it_stopped(tmp_path):
    spec, path = StatesSpec(), tmp_path / "states.zarr"
    with pytest.raises(KeyboardInterrupt):
        fill(spec, path, stop_after=2)
    status = ss.read_status(path, KIND)
    assert status.tolist() == [OK, OK, 0, 0, 0, 0]
    assert fill(spec, path) == [2, 3, 4, 5]  # only the pending samples
    assert fill(spec, path) == []  # idempotent
    values, bad = ss.read_checked(ss.open_group(path, KIND)["mass_fraction"])
    assert bad == {}
    expected = np.stack([compute_state(spec, i)[1] for i in range(spec.n)])
    np.testing.assert_array_equal(values, expected)  # the interrupted run's samples included
    np.testing.assert_allclose(values.sum(axis=1), 1.0)


def test_a_store_refuses_another_spec_and_names_what_differs(tmp_path):
    path = tmp_path / "states.zarr"
    fill(StatesSpec(), path)
    with pytest.raises(ss.StoreError, match=r"state table made with other settings \(tempera"):
        fill(StatesSpec(temperature=1800.0), path)
    with pytest.raises(ss.StoreError, match=r"no state table at .*: make one with `states gen"):
        ss.read_status(tmp_path / "missing.zarr", KIND)


def test_a_damaged_chunk_is_named_by_its_sample(tmp_path):
    spec, path = StatesSpec(), tmp_path / "states.zarr"
    fill(spec, path)
    array = ss.open_group(path, KIND)["mass_fraction"]
    chunk = path / array.path / array.metadata.encode_chunk_key((4, 0))
    raw = bytearray(chunk.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    chunk.write_bytes(bytes(raw))
    values, bad = ss.read_checked(array)
    assert list(bad) == [4]
    np.testing.assert_array_equal(values[3], compute_state(spec, 3)[1])
    status = ss.open_group(path, KIND)["status"]
    chunk = path / status.path / status.metadata.encode_chunk_key((1,))
    chunk.write_bytes(chunk.read_bytes()[:-2])  # truncated
    with pytest.raises(ss.StoreError, match=r"status of sample\(s\) 1 is damaged; `states gen"):
        ss.read_status(path, KIND)
