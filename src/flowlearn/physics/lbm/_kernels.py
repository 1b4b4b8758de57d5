"""Lattices and the lbmpy-generated kernels (stream-collide, boundary links), compiled once.

Every kernel is generated with symbolic relaxation rates (and forces), so one compiled kernel
serves every viscosity: a new Reynolds number never triggers a new C compilation. Kernels are
memoised per process (``functools.cache``) and pystencils keeps the compiled objects on disk.

Array convention of this package: PDF arrays have shape ``(nx + 2, ny + 2[, nz + 2], Q)`` (one
ghost layer on each side, x first as in pystencils) and a structure-of-arrays memory layout
(``fzyx``: x is the contiguous axis), which lets the compiler vectorise along x.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np

STENCILS = ("D2Q9", "D3Q19", "D3Q27")
DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class Lattice:
    """A velocity set in lbmpy's ordering.

    ``c``: (Q, D) integer velocities; ``w``: (Q,) weights; ``inv``: (Q,) index of -c.
    """

    name: str
    c: np.ndarray
    w: np.ndarray
    inv: np.ndarray

    @property
    def dim(self) -> int:
        return self.c.shape[1]

    @property
    def q(self) -> int:
        return self.c.shape[0]


@functools.cache
def lattice(name: str = "D2Q9") -> Lattice:
    """The velocity set ``name`` ("D2Q9", "D3Q19", "D3Q27") with lbmpy's direction order."""
    if name not in STENCILS:
        raise ValueError(f"stencil {name!r} is not supported; choose one of {', '.join(STENCILS)}")
    from lbmpy import LBStencil, Stencil, get_weights

    st = LBStencil(getattr(Stencil, name))
    c = np.array(list(st), dtype=np.int64)
    w = np.array([float(x) for x in get_weights(st)], dtype=np.float64)
    inv = np.array([list(map(tuple, c)).index(tuple(-v)) for v in c], dtype=np.int64)
    for a in (c, w, inv):
        a.setflags(write=False)
    return Lattice(name, c, w, inv)


def default_threads() -> int:
    """OpenMP threads for the kernels: ``FLOWLEARN_THREADS`` or the CPU cores of this process."""
    env = os.environ.get("FLOWLEARN_THREADS")
    if env:
        return max(1, int(env))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


#: cells per OpenMP thread below which another thread costs more than it brings.
CELLS_PER_THREAD = 200_000


def threads_for(cells: int) -> int:
    """Threads for a lattice of ``cells``: one per ``CELLS_PER_THREAD`` cells, at most the
    cores available (``FLOWLEARN_THREADS`` overrides).

    Small lattices sit in cache and update in well under a millisecond; the barrier at the
    end of every OpenMP region then dominates, and on a machine shared with other jobs a
    descheduled thread stalls each step by a scheduler slice (measured: 256 x 1024 cells ran
    at 33 MLUPS on 2 threads, 390-540 MLUPS on 1, with two other jobs running).
    """
    if os.environ.get("FLOWLEARN_THREADS"):
        return default_threads()
    return max(1, min(default_threads(), cells // CELLS_PER_THREAD))


def empty_pdfs(shape: tuple[int, ...], q: int, dtype: str) -> np.ndarray:
    """PDF array for ``shape`` interior cells plus one ghost layer, SoA (``fzyx``) layout.

    Returns shape ``(*[n + 2 for n in shape], q)``; the x axis is contiguous in memory.
    """
    full = tuple(n + 2 for n in shape)
    # Pad the contiguous x axis to a multiple of 16 elements so every row starts on a
    # 64-byte boundary: vector loads and non-temporal stores then need no peeling.
    padded_x = -(-full[0] // 16) * 16
    raw = np.zeros((q, *reversed(full[1:]), padded_x), dtype=dtype)
    view = raw[..., : full[0]]
    return view.transpose(*range(view.ndim - 1, 0, -1), 0)


def pdf_fields(stencil: str, dtype: str):
    """The symbolic source and destination PDF fields of a kernel (fzyx layout)."""
    import pystencils as ps

    lat = lattice(stencil)
    dim = lat.dim
    return ps.fields(f"src({lat.q}), dst({lat.q}): {dtype}[{dim}D]", layout="fzyx")


def vector_instruction_set() -> str | None:
    """The vector instruction set pystencils generates the CPU kernels for (``"X86_AVX512"``,
    ``"ARM_NEON"``, ...), or None when it finds none: on x86 that means py-cpuinfo is missing,
    and the scalar kernels run at about 60 % of the speed (measured: 173-195 against 303 MLUPS
    at 2048^2, float32, 2 threads)."""
    import warnings

    import pystencils as ps

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "py-cpuinfo is not available"
        target = ps.Target.auto_cpu()
    return None if target == ps.Target.GenericCPU else target.name


def _kernel_config(dtype: str, threads: int, vectorise: bool):
    import pystencils as ps

    if vectorise:
        cfg = ps.CreateKernelConfig(default_dtype=dtype, target=ps.Target.CurrentCPU)
        cfg.cpu.vectorize.enable = True
        cfg.cpu.vectorize.assume_inner_stride_one = True
    else:
        cfg = ps.CreateKernelConfig(default_dtype=dtype)
    if threads > 1:
        cfg.cpu.openmp.enable = True
        cfg.cpu.openmp.num_threads = threads
    return cfg


def lb_method_config(stencil: str, method: str, forced: bool, compressible: bool = False):
    """lbmpy's ``LBMConfig`` with symbolic rates ``omega_even``/``omega_odd`` (and ``force_i``).

    ``compressible=False`` is He & Luo's incompressible equilibrium (velocity = momentum,
    reference density 1): the force on a body does not pick up the O(Ma^2) density rise
    that the pressure drop of a channel causes, which biases Cd by ~2 % at Ma 0.1.
    """
    import sympy as sp
    from lbmpy import ForceModel, LBMConfig, LBStencil, Method, Stencil

    lat = lattice(stencil)
    omega_even, omega_odd = sp.symbols("omega_even omega_odd")
    kwargs = {}
    if forced:
        kwargs["force"] = tuple(sp.Symbol(f"force_{i}") for i in range(lat.dim))
        kwargs["force_model"] = ForceModel.GUO
    if method == "trt":
        rates = [omega_even, omega_odd]
        lb_method = Method.TRT
    elif method == "bgk":
        rates = [omega_even]
        lb_method = Method.SRT
    else:
        raise ValueError(f"collision {method!r} is not supported; choose 'trt' or 'bgk'")
    # zero_centered: the arrays hold f - w, which keeps float32 round-off small at low Mach.
    return LBMConfig(
        stencil=LBStencil(getattr(Stencil, stencil)),
        method=lb_method,
        relaxation_rates=rates,
        compressible=compressible,
        zero_centered=True,
        streaming_pattern="pull",
        **kwargs,
    )


@functools.cache
def stream_collide(
    stencil: str,
    method: str,
    dtype: str,
    threads: int,
    forced: bool = False,
    compressible: bool = False,
    vectorise: bool = True,
):
    """Compiled pull stream-collide kernel.

    Call as ``kernel(src=, dst=, omega_even=, omega_odd=[, force_0=, force_1=...])``.

    Runs over the interior cells; reads ``src`` (post-collision PDFs of the previous step,
    ghost layer included), writes ``dst``.
    """
    from lbmpy import LBMOptimisation, create_lb_function

    if dtype not in DTYPES:
        raise ValueError(f"dtype {dtype!r} is not supported; choose one of {', '.join(DTYPES)}")
    src, dst = pdf_fields(stencil, dtype)
    # Global common-subexpression elimination cuts the TRT update from 163 to 94 flops per
    # cell (BGK: 99 -> ~60), which keeps TRT closer to the memory bound on few cores.
    opt = LBMOptimisation(symbolic_field=src, symbolic_temporary_field=dst, cse_global=True)
    cfg = lb_method_config(stencil, method, forced, compressible)
    try:
        return create_lb_function(
            lbm_config=cfg, lbm_optimisation=opt, config=_kernel_config(dtype, threads, vectorise)
        )
    except Exception:
        if not vectorise:
            raise
        # Intrinsic vectorisation needs an x86/ARM target pystencils knows; the scalar
        # kernel (auto-vectorised by the C compiler) is the safe fallback.
        return stream_collide(stencil, method, dtype, threads, forced, compressible, False)


@functools.cache
def fixed_velocity_stream_collide(
    stencil: str, method: str, dtype: str, threads: int, compressible: bool = False
):
    """Compiled pull stream-collide kernel whose equilibrium reads the velocity from the field
    ``u_in`` (``(nx + 2, ny + 2[, nz + 2], D)``, fzyx) instead of the populations: the density
    evolves, the velocity is held. Mei, Luo, Lallemand & d'Humieres (Computers & Fluids 35,
    2006) iterate it to make populations consistent with a given velocity field.

    Call as ``kernel(src=, dst=, u_in=, omega_even=, omega_odd=)``. Scalar code (the kernel
    runs a few hundred steps at most, once per start).
    """
    import dataclasses

    import pystencils as ps
    from lbmpy import LBMOptimisation, create_lb_function

    if dtype not in DTYPES:
        raise ValueError(f"dtype {dtype!r} is not supported; choose one of {', '.join(DTYPES)}")
    src, dst = pdf_fields(stencil, dtype)
    dim = lattice(stencil).dim
    u_in = ps.fields(f"u_in({dim}): {dtype}[{dim}D]", layout="fzyx")
    cfg = dataclasses.replace(
        lb_method_config(stencil, method, False, compressible), velocity_input=u_in.center_vector
    )
    opt = LBMOptimisation(symbolic_field=src, symbolic_temporary_field=dst, cse_global=True)
    return create_lb_function(
        lbm_config=cfg, lbm_optimisation=opt, config=_kernel_config(dtype, threads, False)
    )


def empty_vector_field(shape: tuple[int, ...], dim: int, dtype: str) -> np.ndarray:
    """A ``(*[n + 2 for n in shape], dim)`` array in the PDF arrays' fzyx layout (zeros)."""
    full = tuple(n + 2 for n in shape)
    raw = np.zeros((dim, *reversed(full[1:]), full[0]), dtype=dtype)
    return raw.transpose(*range(raw.ndim - 1, 0, -1), 0)


@functools.cache
def lb_method(stencil: str, method: str, forced: bool = False, compressible: bool = False):
    """lbmpy's method object (what boundary kernels need to know about the collision)."""
    from lbmpy import create_lb_method

    return create_lb_method(lbm_config=lb_method_config(stencil, method, forced, compressible))


@functools.cache
def boundary_kernel(stencil: str, dtype: str, kind: str, compressible: bool = False):
    """Compiled lbmpy boundary kernel over an index array of links; returns (kernel, index dtype).

    ``kind``: "noslip" (half-way bounce-back), "bouzidi" (linear interpolated bounce-back,
    wall distance ``q`` per link), "ubb" (moving wall / velocity inlet, ``vel_i`` per link),
    "density" (fixed density 1, pressure outlet), "outflow" (zero-gradient extrapolation; the
    normal is encoded in the kind: "outflow+x" etc.), "convective" (lbmpy's
    ExtrapolationOutflow: the index array also holds each link's last two values, "convective+x").
    """
    import pystencils as ps
    from lbmpy.boundaries import (
        UBB,
        ExtrapolationOutflow,
        FixedDensity,
        NoSlip,
        NoSlipLinearBouzidi,
        SimpleExtrapolationOutflow,
    )
    from lbmpy.boundaries.boundaryhandling import create_lattice_boltzmann_boundary_kernel
    from pystencils.boundaries.createindexlist import numpy_data_type_for_boundary_object

    lat = lattice(stencil)
    # The link rules depend on the equilibrium (compressible or not) but not on the collision
    # operator or forcing: one compiled kernel per kind serves TRT, BGK, forced or not.
    method_obj = lb_method(stencil, "trt", False, compressible)
    if kind == "noslip":
        obj = NoSlip()
    elif kind == "bouzidi":
        obj = NoSlipLinearBouzidi(init_wall_distance=lambda *a, **k: None, data_type=dtype)
    elif kind == "ubb":
        obj = UBB(lambda *a, **k: None, dim=lat.dim, data_type=dtype)
    elif kind == "density":
        obj = FixedDensity(1.0)
    elif kind.startswith(("outflow", "convective")):
        axis = "xyz".index(kind[-1])
        normal = [0] * lat.dim
        normal[axis] = 1 if kind[-2] == "+" else -1
        if kind.startswith("outflow"):
            obj = SimpleExtrapolationOutflow(tuple(normal), method_obj.stencil)
        else:
            obj = ExtrapolationOutflow(tuple(normal), method_obj, data_type=dtype)
    else:
        raise ValueError(f"unknown boundary kind {kind!r}")
    index_dtype = numpy_data_type_for_boundary_object(obj, lat.dim)
    index_field = ps.Field.create_generic(
        "indexField", spatial_dimensions=1, field_type=ps.FieldType.INDEXED, dtype=index_dtype
    )
    src, _ = pdf_fields(stencil, dtype)
    ast = create_lattice_boltzmann_boundary_kernel(
        src, index_field, method_obj, obj, target=ps.Target.CPU, default_dtype=dtype
    )
    return ast.compile(), index_dtype
