"""The chemistry dataset: labels are Cantera's next state, sampling covers the ignition, a killed
generation resumes to the same numbers, a store of other settings or a damaged one is refused."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("cantera", reason="chemistry needs Cantera: pip install cantera")

from flowlearn.data import chemistry as cd
from flowlearn.physics import chemistry as chem

TINY = cd.ChemSpec(n=3, states=9, T0=(1100.0, 1200.0))


def test_a_trajectory_holds_labelled_states_on_and_off_the_ignition():
    r = cd.compute_trajectory(TINY, 0)
    T0, p, phi = cd.conditions(TINY, 0)
    assert 1100 <= T0 <= 1200 and 1 <= p / chem.ONE_ATM <= 2 and 0.7 <= phi <= 1.3
    x, y, kind = r["x"], r["y"], r["kind"]
    assert x.shape == y.shape == (18, 11) and list(kind) == [0] * 9 + [1] * 9
    assert x[0, 0] == T0 and r["time"][0] == 0.0  # the unburnt mixture is always a sample
    np.testing.assert_allclose(x[:, 1:].sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(y[:, 1:].sum(axis=1), 1.0, rtol=1e-9)
    # the manifold states lie on Cantera's ignition at their times
    at = chem.ignition("h2o2", T0, p, phi, times=r["time"][1:9])
    np.testing.assert_allclose(x[:9, 0], at.T, rtol=1e-12)
    # every label is Cantera's state dt later, strict tolerances
    reactor = chem.Reactor("h2o2")
    for i in (0, 4, 13):
        T1, Y1 = reactor.advance(x[i, 0], p, x[i, 1:], TINY.dt)
        assert y[i, 0] == pytest.approx(T1, rel=1e-10)
        np.testing.assert_allclose(y[i, 1:], Y1, rtol=1e-6, atol=1e-15)
    # the perturbed copies are off the manifold but near it
    rel = np.abs(x[9:, 0] / x[:9, 0] - 1)
    assert 0 < rel.max() < 0.05
    assert r["tau"] > 0 and r["T_final"] > T0 + 500 and r["seconds"] > 0


def test_samples_cover_induction_and_burning():
    r = cd.compute_trajectory(cd.ChemSpec(n=1, states=41), 0)
    t = r["time"][:41]
    assert (t < r["tau"]).sum() >= 10, "the induction, which sets the delay, is sampled"
    assert (t > r["tau"]).sum() >= 5


def test_generation_resumes_to_the_same_numbers(tmp_path):
    whole = tmp_path / "whole.zarr"
    cd.generate(TINY, whole)
    part = tmp_path / "part.zarr"

    def stop_after_one(done, todo):
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cd.generate(TINY, part, progress=stop_after_one)
    with pytest.raises(cd.ChemDataError, match=r"trajectory\(ies\) 1, 2 are not made yet"):
        cd.read(part)
    report = cd.generate(TINY, part)
    assert report.computed == 2
    a, b = cd.read(whole), cd.read(part)
    for name in ("x", "y", "tau", "T0"):
        np.testing.assert_array_equal(a[name].values, b[name].values)
    assert list(a["var"].values[:3]) == ["T", "H2", "H"]
    assert cd.spec_of(part) == TINY
    assert cd.generate(TINY, part).computed == 0


def test_a_store_of_other_settings_is_refused(tmp_path):
    path = tmp_path / "s.zarr"
    cd.generate(TINY, path)
    other = cd.ChemSpec(n=3, states=9, T0=(1100.0, 1250.0))
    with pytest.raises(cd.ChemDataError, match=r"T0: \(1100.0, 1200.0\) there, \(1100.0, 1250.0\)"):
        cd.generate(other, path)


def test_a_damaged_trajectory_is_named(tmp_path):
    path = tmp_path / "s.zarr"
    cd.generate(TINY, path)
    chunk = next(
        p
        for p in (path / "x").rglob("*")
        if p.is_file() and p.name == "0" and p.parent.name == "0" and p.parent.parent.name == "1"
    )
    data = bytearray(chunk.read_bytes())
    data[len(data) // 2] ^= 0xFF
    chunk.write_bytes(bytes(data))
    with pytest.raises(cd.ChemDataError, match=r"trajectory\(ies\) 1 are damaged"):
        cd.read(path)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"mechanism": "air"}, "unknown mechanism 'air'"),
        (
            {"T0": (1200.0, 1100.0)},
            r"T0 range \(1200.0, 1100.0\) must be positive with low <= high",
        ),
        ({"n": 0}, "n = 0 trajectories"),
        ({"states": 2}, "states = 2 per trajectory"),
        ({"dt": 0.01}, "step dt = 0.01 s must lie in"),
        ({"perturb_T": 0.5}, "perturbations 0.5 \\(T\\)"),
    ],
)
def test_bad_specs_are_refused(values, message):
    with pytest.raises(ValueError, match=message):
        cd.ChemSpec(**values)
