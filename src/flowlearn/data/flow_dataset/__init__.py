"""Steady flows around random shapes, made with flowlearn's lattice Boltzmann solver.

One sample = one obstacle in a channel of ``grid = (nx, ny)`` cells (parabolic inflow, pressure
outlet, no-slip walls), run to steady state. Inputs: the body's signed distance (cells), its
solid mask and the Reynolds number; targets: ``u / U``, ``v / U`` and ``(p - p_out) / (rho U^2)``
(U the mean inlet velocity, 0 in the solid) plus the drag and lift coefficients by momentum
exchange.

Storage is one Zarr store in xarray's layout (dims ``sample, y, x``), pre-allocated for all
samples and chunked one sample per chunk. A sample's fields are written first and its ``status``
last, so a run killed at any point leaves only complete samples marked done; the same command
then computes only what is missing. Every sample has its own seed (``[seed, index]``), so a
sample is the same whichever worker makes it and in whatever order. Unconverged (unsteady),
diverged or invalid samples are never stored as data: their status says why, and they are
counted.

Samples run in parallel through Dask: local processes by default, or any Dask cluster given by
its scheduler address.

Integrity (:mod:`flowlearn.data.sample_store`): every chunk carries a CRC32C, one generation
holds the store's lock, and :func:`verify` reads every stored sample back and checks it is
intact and physical (finite, zero in the body, the inlet's mean velocity equal to U, ...).
:func:`generate` verifies before it computes and recomputes what is damaged; :func:`read`, which
training uses, refuses a damaged sample by index.
"""

from flowlearn.data.flow_dataset._generate import (
    GenerationReport,
    generate,
    generation_memory,
)
from flowlearn.data.flow_dataset._integrity import (
    INLET_TOLERANCE,
    MAX_PRESSURE,
    MAX_SPEED,
    Integrity,
    add_checksums,
    verify,
)
from flowlearn.data.flow_dataset._spec import (
    DIVERGED,
    FIELDS,
    GENERATOR_VERSION,
    GRID_VARS,
    INVALID,
    KIND,
    OK,
    PENDING,
    SCALARS,
    STARTS,
    STATUS_NAMES,
    UNSTEADY,
    DatasetError,
    FlowDatasetSpec,
    Refined,
    Sample,
    compute_sample,
    refine,
    run_to_steady,
    sample_setup,
    start_from_fields,
    steady_case,
)
from flowlearn.data.flow_dataset._store import (
    FlowSamples,
    load,
    netcdf_ready,
    read,
    read_samples,
    status,
    summary,
)
from flowlearn.data.sample_store import StoreError

__all__ = [
    "DIVERGED",
    "FIELDS",
    "GENERATOR_VERSION",
    "GRID_VARS",
    "INLET_TOLERANCE",
    "INVALID",
    "KIND",
    "MAX_PRESSURE",
    "MAX_SPEED",
    "OK",
    "PENDING",
    "SCALARS",
    "STARTS",
    "STATUS_NAMES",
    "UNSTEADY",
    "DatasetError",
    "FlowDatasetSpec",
    "FlowSamples",
    "GenerationReport",
    "Integrity",
    "Refined",
    "Sample",
    "StoreError",
    "add_checksums",
    "compute_sample",
    "generate",
    "generation_memory",
    "load",
    "netcdf_ready",
    "read",
    "read_samples",
    "refine",
    "run_to_steady",
    "sample_setup",
    "start_from_fields",
    "status",
    "steady_case",
    "summary",
    "verify",
]
