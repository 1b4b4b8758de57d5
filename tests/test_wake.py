"""Cylinder wakes made by the LBM and stored as snapshots (:mod:`flowlearn.data.wake`): the
Schäfer–Turek 2D-2 Strouhal number, a killed generation resumed bit for bit from its saved
state, and every bad spec, foreign store and damaged snapshot named."""

from __future__ import annotations

import numpy as np
import pytest

from flowlearn.data import wake
from flowlearn.data.wake import WakeError, WakeSpec

#: 4 shedding periods of 10 snapshots after 25 periods of transient, 16 cells per diameter.
SPEC = WakeSpec(re=100.0, channel="confined", n=40, per_period=10)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    path = tmp_path_factory.mktemp("wake") / "wake.zarr"
    report = wake.generate(SPEC, path)
    return path, report


def test_the_confined_wake_sheds_at_the_benchmark_strouhal_number(made):
    path, report = made
    ds = wake.read(path)
    assert ds["u"].shape == (40, 66, 352) and ds.attrs["fingerprint"] == SPEC.fingerprint
    # Schäfer & Turek 2D-2: St = 0.295-0.305 (flowlearn's D = 90 cells: 0.3008)
    assert 0.295 <= ds.attrs["strouhal"] <= 0.305
    assert report.interval == round(report.period_steps / SPEC.per_period)
    cl = ds["cl"].values
    assert 0.8 < (cl.max() - cl.min()) / 2 < 1.2  # 2D-2: Cl_max 0.99-1.01
    # the cylinder sits at the origin of the stored coordinates (diameters) and is solid
    mask = ds["mask"].values.astype(bool)
    assert mask[np.abs(ds["y"].values) < 0.3][:, np.abs(ds["x"].values) < 0.3].all()
    assert np.isfinite(ds["vorticity"].values).all()
    assert wake.state_path(path).is_file()  # the developed wake, kept


def test_a_killed_generation_resumes_bit_for_bit(made, tmp_path):
    whole, _ = made
    path = tmp_path / "wake.zarr"

    def kill(done: int, total: int) -> None:
        if done == 27:  # past the checkpoint at 20
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        wake.generate(SPEC, path, progress=kill)
    with pytest.raises(WakeError, match=r"snapshot.* 27, 28, 29.* are not made yet"):
        wake.read(path)
    report = wake.generate(SPEC, path)
    assert report.resumed_from == 20 and report.computed == 20
    a, b = wake.read(whole), wake.read(path)
    for name in ("u", "v", "vorticity", "cl", "time_value"):
        assert np.array_equal(a[name].values, b[name].values), name
    again = wake.generate(SPEC, path)  # complete: nothing to do
    assert again.computed == 0


def test_another_spec_or_a_foreign_store_is_refused(made, tmp_path):
    path, _ = made
    with pytest.raises(WakeError, match=r"re: 100\.0 there, 120\.0 now"):
        wake.generate(WakeSpec(re=120.0, n=40, per_period=10), path)
    foreign = tmp_path / "mine.zarr"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(WakeError, match="not a readable flowlearn wake"):
        wake.generate(SPEC, foreign)
    assert (foreign / "notes.txt").read_text() == "mine"


def test_a_damaged_snapshot_is_named(made, tmp_path):
    import shutil

    path, _ = made
    copy = tmp_path / "copy.zarr"
    shutil.copytree(path, copy)
    chunk = copy / "u" / "c" / "3" / "0" / "0"
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0xFF
    chunk.write_bytes(bytes(data))
    with pytest.raises(WakeError, match=r"snapshot.* 3 .*damaged"):
        wake.read(copy)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"channel": "narrow"}, "choose confined or wide"),
        ({"n": 1}, "at least 2 are needed"),
        ({"per_period": 2}, "at least 4 snapshots per period"),
        ({"settle_periods": 2}, "at least 5"),
        ({"window": (2, 1, -1, 1)}, "x0 < x1 and y0 < y1"),
        ({"re": -5}, "must be positive"),
    ],
)
def test_bad_specs_are_named(kwargs, message):
    with pytest.raises(WakeError, match=message):
        WakeSpec(**kwargs)


def test_below_the_onset_of_shedding_there_is_no_wake_to_store(tmp_path):
    with pytest.raises(WakeError, match="no shedding found"):
        wake.generate(WakeSpec(re=20.0, n=4, per_period=4, settle_periods=8), tmp_path / "w.zarr")
