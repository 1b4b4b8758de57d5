"""The solver's memory estimate, held against what building a solver really allocates."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest

from flowlearn.physics.lbm import cases, solver_memory
from flowlearn.physics.lbm.solver import SETUP_FIXED_BYTES
from flowlearn.physics.shape_families import random_shape
from flowlearn.safety import MemoryLimitError


def _peak(build):
    build()  # compile the kernels first: their cost is not the lattice's
    tracemalloc.start()
    try:
        case = build()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return case, peak


@pytest.mark.parametrize(
    ("name", "build", "stencil", "dtype"),
    [
        ("cavity f64", lambda: cases.cavity(100, n=300, dtype="float64"), "D2Q9", "float64"),
        ("cavity f32", lambda: cases.cavity(100, n=300, dtype="float32"), "D2Q9", "float32"),
        (
            "obstacle channel",
            lambda: cases.obstacle_channel(
                random_shape("blob", np.random.default_rng(1), (512, 256)), (512, 256), re=20
            ),
            "D2Q9",
            "float32",
        ),
        (
            "sphere",
            lambda: cases.sphere_channel(20, diameter_cells=6, dtype="float32"),
            "D3Q19",
            "float32",
        ),
    ],
)
def test_estimate_covers_the_measured_peak(name, build, stencil, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        case, peak = _peak(build)
    estimate = solver_memory(case.solver.grid, stencil, dtype)
    assert peak <= estimate <= 1.4 * peak + SETUP_FIXED_BYTES, (name, peak, estimate)


def test_make_solver_refuses_before_allocating(monkeypatch):
    monkeypatch.setenv("FLOWLEARN_MEMORY_LIMIT", "20M")
    tracemalloc.start()
    try:
        with pytest.raises(MemoryLimitError) as err:
            cases.cavity(100, n=256)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1e6, "refused before the lattice was allocated"
    assert err.value.need == solver_memory((256, 256), "D2Q9", "float64")
    assert err.value.limit == 20 * 1024**2
    assert "the 256x256 D2Q9 lattice (float64)" in str(err.value)
    assert "coarser grid or float32" in str(err.value)
