"""A solver's state saved and loaded (:mod:`flowlearn.physics.lbm.state`): a run continued from
a loaded state is, step for step and bit for bit, the run that was saved; a file from another
set-up, a damaged file and a file flowlearn did not write are refused by name."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from flowlearn.physics import geometry
from flowlearn.physics.lbm import StabilityWarning, StateError, cases
from flowlearn.safety import OutputError, output_kind


def _shedding(re: float = 100.0, outlet: str = "convective"):
    """The Schäfer–Turek channel at 16 cells per diameter (352 x 66 cells), Re 100 by default:
    a shedding wake, with (by default) the outlet that keeps a memory of its own, the
    convective outflow."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StabilityWarning)
        return cases.channel_with_shape(
            geometry.circle((0.2, 0.2), 0.05), re=re, ref_length=0.1, u_max=1.5 * re / 100,
            cells_per_length=16, outlet=outlet, dtype="float32",
        )  # fmt: skip


@pytest.mark.parametrize("outlet", ["convective", "pressure"])
def test_a_loaded_state_continues_bit_for_bit(tmp_path, outlet):
    a = _shedding(outlet=outlet)
    a.solver.step(400)
    path = a.solver.save_state(tmp_path / "wake.npz", attrs={"re": 100.0})
    a.solver.step(300)
    b = _shedding(outlet=outlet)
    assert b.solver.load_state(path) == {"re": 100.0}
    assert b.solver.time == 400
    b.solver.step(300)
    assert b.solver.time == a.solver.time == 700
    # bit for bit, ghost layers included (NaN where a wall kernel leaves a solid link unset)
    assert np.array_equal(a.solver.src, b.solver.src, equal_nan=True)
    assert np.isfinite(a.solver.src[1:-1, 1:-1][a.solver.fluid[1:-1, 1:-1]]).all()
    assert a.coefficients() == b.coefficients()
    assert output_kind(path) == "lbm state"


def test_periodic_flow_continues_too(tmp_path):
    a, _ = cases.taylor_green(16)
    a.step(50)
    a.save_state(tmp_path / "tg.npz")
    a.step(50)
    b, _ = cases.taylor_green(16)
    b.load_state(tmp_path / "tg.npz")
    b.step(50)
    assert np.array_equal(a.src, b.src, equal_nan=True)


def test_another_setup_is_refused_and_says_what_differs(tmp_path):
    a = _shedding()
    a.solver.step(10)
    path = a.solver.save_state(tmp_path / "wake.npz")
    other = _shedding(re=150.0)
    before = other.solver.src.copy()
    with pytest.raises(StateError, match=r"another set-up: .*nu 0\.\d+ saved"):
        other.solver.load_state(path)
    assert np.array_equal(other.solver.src, before)  # nothing changed
    tg, _ = cases.taylor_green(16)
    with pytest.raises(StateError, match="grid"):
        tg.load_state(path)


def test_a_damaged_or_foreign_file_is_refused(tmp_path):
    a = _shedding()
    a.solver.step(10)
    path = a.solver.save_state(tmp_path / "wake.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["pdfs"][5, 5, 1] += 1e-3  # one population changed, the recorded checksum kept
    damaged = tmp_path / "damaged.npz"
    np.savez(damaged, **arrays)
    with pytest.raises(StateError, match="damaged: the checksum of 'pdfs'"):
        _shedding().solver.load_state(damaged)
    foreign = tmp_path / "mine.npz"
    np.savez(foreign, x=np.arange(3))
    with pytest.raises(StateError, match="not a flowlearn LBM state"):
        _shedding().solver.load_state(foreign)
    with pytest.raises(StateError, match="no LBM state at"):
        _shedding().solver.load_state(tmp_path / "missing.npz")
    # the user's file is never replaced by a state, and the suffix is checked first
    with pytest.raises(OutputError, match="not a flowlearn lbm state"):
        a.solver.save_state(foreign)
    assert np.array_equal(np.load(foreign)["x"], np.arange(3))
    with pytest.raises(OutputError, match=r"must end in \.npz"):
        a.solver.save_state(tmp_path / "wake.zarr")
    # a state of an older layout names both
    meta = json.loads(str(arrays["meta"]))
    meta["state_version"] = 0
    arrays["meta"] = np.array(json.dumps(meta))
    old = tmp_path / "old.npz"
    np.savez(old, **arrays)
    with pytest.raises(StateError, match="layout 0; this flowlearn reads layout 1"):
        _shedding().solver.load_state(old)


def test_saving_again_replaces_only_a_state(tmp_path):
    a = _shedding()
    path = a.solver.save_state(tmp_path / "wake.npz")
    a.solver.step(20)
    a.solver.save_state(path)  # its own kind: replaced without asking
    b = _shedding()
    b.solver.load_state(path)
    assert b.solver.time == 20
