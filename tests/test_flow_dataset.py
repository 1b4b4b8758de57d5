"""The steady-flow Zarr dataset: generate, load, reproduce, resume, reject, validate.

Every spec is tiny (32 x 16 cells, 2-8 samples). The Reynolds range is (5, 20), not the
default (10, 40): on a 16-cell-high channel with the default u_lattice = 0.05 the bodies are
3-8 cells across, so tau gets close to 1/2 above Re ~ 25 and several samples diverge.
"""

from __future__ import annotations

import contextlib
import json
import socket
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from flowlearn.data import flow_dataset as fd
from flowlearn.data.flow_dataset import DatasetError, FlowDatasetSpec
from flowlearn.data.sample_store import StoreError
from flowlearn.physics.shape_families import FAMILIES

GRID = (32, 16)
RE = (5.0, 20.0)
#: Everything a run stores, bar its wall-clock time.
COMPARED = ("sdf", "mask", "u", "v", "p", "re", "family", "status", "cd", "cl", "steps")


def _spec(n: int = 4, **kwargs) -> FlowDatasetSpec:
    return FlowDatasetSpec(grid=GRID, n=n, re=RE, **kwargs)


def _arrays(path: Path) -> dict[str, np.ndarray]:
    """Every sample (whatever its status) of the store at ``path``, as numpy arrays."""
    ds = xr.open_zarr(path, consolidated=False)
    return {name: ds[name].values for name in COMPARED}


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    for name in COMPARED:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, fd.GenerationReport]:
    """The 4-sample dataset made in one uninterrupted serial run (shared, read only)."""
    path = tmp_path_factory.mktemp("flow") / "ref.zarr"
    return path, fd.generate(_spec(), path)


# ------------------------------------------------------------------------ generate + load
def test_generate_then_load(reference):
    path, report = reference
    spec = _spec()
    assert report.computed == 4 and report.skipped == 0
    assert sum(report.counts.values()) == 4 and report.counts["pending"] == 0
    assert report.counts["ok"] == 4, report.reasons
    assert (fd.status(path) == fd.OK).all()

    ds = fd.load(path)
    nx, ny = GRID
    assert ds.sizes == {"sample": 4, "y": ny, "x": nx}
    for name in ("sdf", "mask", "u", "v", "p"):
        assert ds[name].dims == ("sample", "y", "x")
        assert ds[name].shape == (4, ny, nx)
    assert ds.attrs["fingerprint"] == spec.fingerprint
    assert list(ds["family_name"].values) == list(spec.families[:4])

    sdf, mask = ds["sdf"].values, ds["mask"].values.astype(bool)
    u, v, p = (ds[name].values for name in fd.FIELDS)
    assert mask.any(axis=(1, 2)).all(), "every sample has a body"
    # The inlet column (x = 0.5) is all fluid; its mean u / U is the mean inlet velocity, 1.
    assert not mask[:, :, 0].any()
    np.testing.assert_allclose(u[:, :, 0].mean(axis=1), 1.0, atol=0.05)
    np.testing.assert_allclose(u[:, ny // 2, 0], 1.5, atol=0.1)  # parabola's peak
    # The solver's solid cells are the cell centres with sdf < 0; only cells within half a
    # cell of the surface may go either way.
    clear = np.abs(sdf) >= 0.5
    np.testing.assert_array_equal(mask[clear], sdf[clear] < 0)
    assert (mask != (sdf < 0)).mean() < 0.01
    for field in (u, v, p):
        assert (field[mask] == 0).all()
        assert np.isfinite(field).all()
    assert np.abs(u[~mask]).max() < 3.0
    cd = ds["cd"].values
    assert np.isfinite(cd).all() and (cd > 0).all()
    assert np.isfinite(ds["cl"].values).all()
    lo, hi = RE
    assert ((ds["re"].values >= lo) & (ds["re"].values <= hi)).all()

    info = fd.summary(path)
    assert info["samples"] == 4 and info["status"]["ok"] == 4
    assert info["fingerprint"] == spec.fingerprint
    assert sum(info["families"].values()) == 4
    assert info["lbm_seconds_per_sample"] > 0


# ------------------------------------------------------------------------ reproducibility
def test_same_spec_gives_identical_arrays(reference, tmp_path):
    path, _ = reference
    again = tmp_path / "again.zarr"
    fd.generate(_spec(), again)
    _assert_same(_arrays(path), _arrays(again))


def test_growing_a_dataset_keeps_its_first_samples():
    small, large = _spec(n=4), _spec(n=8)
    assert small.fingerprint != large.fingerprint  # n is part of the fingerprint ...
    nx, ny = GRID
    for k in range(4):  # ... but not of a sample's seed [seed, k]
        (s4, fam4, re4), (s8, fam8, re8) = fd.sample_setup(small, k), fd.sample_setup(large, k)
        assert (fam4, re4) == (fam8, re8)
        np.testing.assert_array_equal(s4.sample(nx, ny, 1.0), s8.sample(nx, ny, 1.0))
    a, b = fd.compute_sample(small, 3), fd.compute_sample(large, 3)
    assert a.status == b.status == fd.OK
    np.testing.assert_array_equal(a.fields, b.fields)
    # Another seed gives other shapes.
    other = fd.sample_setup(_spec(seed=1), 0)[0].sample(nx, ny, 1.0)
    assert not np.array_equal(other, fd.sample_setup(small, 0)[0].sample(nx, ny, 1.0))


# ------------------------------------------------------------------------------ resuming
def test_interrupted_run_resumes_where_it_stopped(reference, tmp_path):
    path = tmp_path / "resumed.zarr"
    spec = _spec()

    def interrupt(sample, done, total):
        assert total == 4
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fd.generate(spec, path, workers=1, progress=interrupt)
    codes = fd.status(path)
    assert (codes != fd.PENDING).sum() == 2
    assert (codes[:2] != fd.PENDING).all() and (codes[2:] == fd.PENDING).all()
    assert fd.summary(path)["status"]["pending"] == 2

    seen: list[tuple[int, int, int]] = []
    report = fd.generate(spec, path, progress=lambda s, d, t: seen.append((s.index, d, t)))
    assert report.computed == 2 and report.skipped == 2
    assert seen == [(2, 1, 2), (3, 2, 2)]  # none of the first two again
    assert report.counts["pending"] == 0
    _assert_same(_arrays(path), _arrays(reference[0]))

    # Complete: a third run computes nothing.
    seen.clear()
    report = fd.generate(spec, path, progress=lambda s, d, t: seen.append(s.index))
    assert (report.computed, report.skipped, seen) == (0, 4, [])


@pytest.mark.parametrize("proof", ["marker", "dataset attrs", "empty"])
def test_leftover_creating_directory_of_flowlearn_is_replaced(tmp_path, proof):
    """A creation killed half-way leaves NAME.zarr.creating; the next run removes it only when
    it is provably flowlearn's: the creation marker, a dataset's root attributes (a leftover of
    a version before the marker), or nothing at all."""
    from flowlearn.data.sample_store import CREATING_MARKER

    path = tmp_path / "d.zarr"
    leftover = tmp_path / "d.zarr.creating"
    leftover.mkdir()
    if proof == "marker":
        (leftover / CREATING_MARKER).write_text("{}")
        (leftover / "sdf").mkdir()
        (leftover / "sdf" / "zarr.json").write_text("{half written")
    elif proof == "dataset attrs":
        attrs = {"fingerprint": "abc", "generator_version": 1}
        (leftover / "zarr.json").write_text(json.dumps({"attributes": attrs}))
    report = fd.generate(_spec(n=2), path)
    assert not leftover.exists()
    assert report.computed == 2 and report.counts["ok"] == 2
    assert fd.load(path).sizes["sample"] == 2


def test_leftover_creating_directory_of_someone_else_is_kept(tmp_path):
    from conftest import tree_bytes

    path = tmp_path / "d.zarr"
    leftover = tmp_path / "d.zarr.creating"
    (leftover / "sdf").mkdir(parents=True)
    (leftover / "sdf" / "zarr.json").write_text("{half written")
    (leftover / "thesis.tex").write_text("chapter 1")
    before = tree_bytes(leftover)
    with pytest.raises(StoreError, match="was not made by flowlearn: flowlearn never removes it"):
        fd.generate(_spec(n=2), path)
    assert tree_bytes(leftover) == before
    assert not path.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n": 6}, "n: 4 there, 6 now"),
        ({"re": (5.0, 25.0)}, r"re: \(5\.0, 20\.0\) there, \(5\.0, 25\.0\) now"),
        ({"seed": 3}, "seed: 0 there, 3 now"),
    ],
)
def test_other_spec_at_the_same_path_is_refused(reference, change, message):
    path, _ = reference
    spec = FlowDatasetSpec(**{"grid": GRID, "n": 4, "re": RE, **change})
    with pytest.raises(DatasetError, match=message):
        fd.generate(spec, path)
    assert (fd.status(path) == fd.OK).all()  # untouched


# ----------------------------------------------------------------------------- rejection
def test_unsteady_samples_are_counted_not_stored(tmp_path):
    path = tmp_path / "short.zarr"
    spec = _spec(n=3, max_flow_throughs=0.5)  # 320 steps: no sample settles (they need ~3000)
    report = fd.generate(spec, path)
    assert report.counts["unsteady"] == 3 and report.counts["ok"] == 0
    assert (fd.status(path) == fd.UNSTEADY).all()
    assert len(report.reasons) == 3
    for reason in report.reasons:
        assert "unsteady" in reason and "residual" in reason and "after 320 steps" in reason
    assert report.reasons[0].startswith("sample 0 (circle, Re ")

    raw = xr.open_zarr(path, consolidated=False)
    for name in ("sdf", "mask", "u", "v", "p"):
        assert (raw[name].values == 0).all(), name
    assert np.isnan(raw["cd"].values).all()
    assert (raw["steps"].values == 320).all()

    assert fd.load(path).sizes["sample"] == 0
    assert fd.load(path, only_ok=False).sizes["sample"] == 3
    info = fd.summary(path)
    assert info["status"]["unsteady"] == 3 and info["status"]["ok"] == 0
    assert sum(info["families"].values()) == 0
    assert np.isnan(info["lbm_seconds_per_sample"])


# ------------------------------------------------------------------------------ bad specs
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"grid": (12, 16)}, "grid 12x16 is too small"),
        ({"grid": (32, 6)}, "grid 32x6 is too small"),
        ({"n": 0}, "n = 0 must be at least 1"),
        ({"re": (20.0, 5.0)}, "Reynolds range 20:5 must satisfy"),
        ({"re": (0.0, 5.0)}, "Reynolds range 0:5 must satisfy"),
        ({"re": (-5.0, 5.0)}, "Reynolds range -5:5 must satisfy"),
        ({"re": (5.0, float("inf"))}, "Reynolds range 5:inf must satisfy"),
        ({"families": ("circle", "hexagon")}, "unknown shape family hexagon; choose from circle,"),
        ({"families": ()}, "at least one shape family"),
        ({"dtype": "float16"}, "dtype 'float16' must be float32 or float64"),
    ],
)
def test_bad_specs_are_refused(kwargs, message):
    with pytest.raises(DatasetError, match=message) as info:
        FlowDatasetSpec(**{"grid": GRID, "n": 4, "re": RE, **kwargs})
    if kwargs.get("families"):
        assert all(name in str(info.value) for name in FAMILIES)


def test_spec_round_trips_through_attrs():
    spec = _spec(families=("naca", "star", "pair"), seed=5, dtype="float64")
    assert FlowDatasetSpec.from_attrs(spec.to_attrs()) == spec
    assert FlowDatasetSpec(grid=[32, 16], n=4, re=[5, 20]).fingerprint == _spec().fingerprint


# ----------------------------------------------------------------------------------- dask
def test_dask_workers_give_the_serial_arrays(reference, tmp_path):
    path = tmp_path / "dask.zarr"
    seen: list[int] = []
    # another cluster's dashboard on dask's default port must not make ours warn
    with socket.socket() as other, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with contextlib.suppress(OSError):  # already held by someone else: just as good
            other.bind(("", 8787))
            other.listen()
        report = fd.generate(_spec(), path, workers=2, progress=lambda s, d, t: seen.append(d))
    assert not [w for w in caught if "already in use" in str(w.message)]
    assert report.computed == 4 and report.counts["ok"] == 4
    assert seen == [1, 2, 3, 4]
    _assert_same(_arrays(path), _arrays(reference[0]))


# ---------------------------------------------------------------------------- bad stores
def test_load_missing_path(tmp_path):
    with pytest.raises(DatasetError, match=r"no dataset at .*missing\.zarr"):
        fd.load(tmp_path / "missing.zarr")
    with pytest.raises(DatasetError, match="no dataset at"):
        fd.summary(tmp_path / "missing.zarr")


def test_load_foreign_store(tmp_path):
    path = tmp_path / "plain.zarr"
    xr.Dataset({"a": ("x", np.arange(3))}).to_zarr(path, consolidated=False)
    with pytest.raises(DatasetError, match="not a flowlearn dataset"):
        fd.load(path)
    with pytest.raises(DatasetError, match="no fingerprint"):
        fd.generate(_spec(n=2), path)


def test_load_directory_that_is_not_zarr(tmp_path):
    path = tmp_path / "folder"
    path.mkdir()
    (path / "notes.txt").write_text("not a store")
    with pytest.raises(DatasetError, match="not a flowlearn dataset"):
        fd.load(path)
    with pytest.raises(DatasetError, match="not a readable flowlearn dataset"):
        fd.generate(_spec(n=2), path)


# ------------------------------------------------------------------------------ integrity
def _copy(reference, tmp_path) -> Path:
    import shutil

    path = tmp_path / "copy.zarr"
    shutil.copytree(reference[0], path)
    return path


def _chunk(path: Path, name: str, i: int) -> Path:
    return path / name / "c" / str(i) / ("0/0" if name in fd.GRID_VARS else "")


def _flip(file: Path, at: int = 12) -> None:
    data = bytearray(file.read_bytes())
    data[at] ^= 0xFF
    file.write_bytes(bytes(data))


def _truncate(file: Path) -> None:
    file.write_bytes(file.read_bytes()[: len(file.read_bytes()) // 2])


def _old_store(reference, tmp_path) -> Path:
    """The reference as a version before checksums wrote it: zstd alone, one sample a chunk."""
    path = tmp_path / "old.zarr"
    ds = xr.open_zarr(reference[0], consolidated=False)
    for var in ds.variables.values():
        var.encoding = {k: v for k, v in var.encoding.items() if k == "chunks"}
    ds.to_zarr(path, consolidated=False, zarr_format=3)
    return path


def test_a_fresh_store_is_checksummed_and_intact(reference):
    check = fd.verify(reference[0])
    assert check.checksummed and check.intact
    assert (check.samples, check.checked) == (4, 4)


@pytest.mark.parametrize(
    ("name", "damage", "reason"),
    [
        ("u", _flip, "u: Stored and computed checksum do not match"),
        ("u", _truncate, "u: "),
        ("p", Path.unlink, "p: chunk file missing"),
        ("status", _truncate, "status: "),
        ("cd", _flip, "cd: Stored and computed checksum do not match"),
    ],
)
def test_damage_is_found_by_index_never_read_and_recomputed(
    reference, tmp_path, name, damage, reason
):
    path = _copy(reference, tmp_path)
    damage(_chunk(path, name, 2))
    check = fd.verify(path)
    assert list(check.corrupt) == [2], check.corrupt
    assert check.corrupt[2].startswith(reason)
    with pytest.raises(DatasetError, match=r"1 stored sample\(s\) are damaged \(2; sample 2: "):
        fd.read(path)
    # the next generation recomputes exactly that sample, to the same numbers as before
    report = fd.generate(_spec(), path)
    assert list(report.repaired) == [2] and report.computed == 1
    assert fd.verify(path).intact
    _assert_same(_arrays(path), _arrays(reference[0]))
    assert fd.read(path).sizes["sample"] == 4


def test_damaged_status_is_named_not_a_codec_traceback(reference, tmp_path):
    path = _copy(reference, tmp_path)
    _truncate(_chunk(path, "status", 1))
    with pytest.raises(DatasetError, match=r"the status of sample\(s\) 1 is damaged"):
        fd.status(path)
    with pytest.raises(DatasetError, match=r"status of sample\(s\) 1"):
        fd.summary(path)


def test_unphysical_values_are_caught_without_checksums(reference, tmp_path):
    """A store without checksums (written before them) is still checked value by value."""
    import zarr

    path = _old_store(reference, tmp_path)
    check = fd.verify(path)
    assert not check.checksummed and check.intact
    group = zarr.open_group(path, mode="r+")
    u = group["u"][3]
    u[5, 7] = 3.0e38  # the kind of value a flipped exponent byte gives
    group["u"][3] = u
    v = group["v"][1]
    v[np.asarray(group["mask"][1], dtype=bool)] = 0.5  # flow inside the body
    group["v"][1] = v
    check = fd.verify(path)
    assert check.corrupt == {1: "v: non-zero inside the body", 3: "u: |u| above 100"}
    with pytest.raises(DatasetError, match="recompute them with `flowlearn dataset generate`"):
        fd.add_checksums(path)


def test_checksums_are_added_to_an_intact_old_store(reference, tmp_path):
    path = _old_store(reference, tmp_path)
    assert not fd.verify(path).checksummed
    sealed = fd.add_checksums(path)
    assert sealed.checksummed and sealed.intact and sealed.checked == 4
    _assert_same(_arrays(path), _arrays(reference[0]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.zarr", "old.zarr.lock"]
    _flip(_chunk(path, "v", 0))
    assert list(fd.verify(path).corrupt) == [0]


def test_a_second_generation_of_the_same_store_is_refused(tmp_path):
    from flowlearn.data.sample_store import store_lock

    path = tmp_path / "busy.zarr"
    with store_lock(path, "generating"):  # as another process would hold it
        with pytest.raises(StoreError, match="another flowlearn process is generating"):
            fd.generate(_spec(n=2), path)
    assert not path.exists()
    assert fd.generate(_spec(n=2), path).computed == 2  # free again
