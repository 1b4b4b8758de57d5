"""The lattice Boltzmann update on an NVIDIA GPU: lbmpy's CUDA kernel, run through CuPy.

lbmpy generates the same stream-collide update as on the CPU (same collision model, symbolic
relaxation rates, structure-of-arrays layout with x contiguous, so neighbouring GPU threads
read neighbouring addresses); pystencils compiles it with NVRTC through CuPy. What runs here
is a fully periodic lattice -- the bare kernel the benchmark measures and the Taylor-Green
check -- started from, and compared with, a CPU :class:`~flowlearn.physics.lbm.Solver`.
Walls, inlets and obstacles on the GPU are not built yet: bodies run on the CPU solver.

CuPy is optional (``pip install cupy-cuda12x`` or ``cupy-cuda13x``, matching the driver); the
code generation itself needs no GPU, so it is tested everywhere.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from flowlearn.physics.lbm import _kernels
from flowlearn.physics.lbm.collision import TRT, Collision
from flowlearn.physics.lbm.solver import fill_periodic_ghosts


def cupy_module() -> Any | None:
    """CuPy when it is installed and sees at least one CUDA device, else None."""
    try:
        import cupy
    except ImportError:
        return None
    try:
        return cupy if cupy.cuda.runtime.getDeviceCount() > 0 else None
    except Exception:  # no driver, no device: CuPy raises its own runtime errors
        return None


def require_cupy() -> Any:
    """CuPy with a device, or a RuntimeError that says what is missing."""
    cp = cupy_module()
    if cp is None:
        raise RuntimeError(
            "the GPU lattice needs CuPy and a CUDA device: install cupy-cuda12x or cupy-cuda13x "
            "(matching `nvidia-smi`'s CUDA version) on a machine with an NVIDIA GPU"
        )
    return cp


@functools.cache
def stream_collide_kernel(
    stencil: str,
    method: str,
    dtype: str,
    forced: bool = False,
    compressible: bool = False,
    block_size: tuple[int, int, int] | None = None,
    index_dtype: str = "int64",
):
    """lbmpy's pull stream-collide update as a CUDA kernel (not compiled: no GPU needed).

    The same update rule as :func:`~flowlearn.physics.lbm._kernels.stream_collide`; the
    kernel's ``get_c_code()`` is the CUDA source. ``block_size``: threads per block along
    (x, y, z); None keeps pystencils' default ((16, 16, 1) in 2-D, (8, 8, 4) in 3-D). A warp
    of 32 threads along x, e.g. ``(128, 1, 1)``, reads whole 128-byte rows of each population;
    the 16-wide default reads half rows (the benchmark measures both). ``index_dtype``:
    "int64" (pystencils' default) or "int32", cheaper address arithmetic on a GPU, for arrays
    of fewer than 2^31 elements.
    """
    import pystencils as ps
    from lbmpy import LBMOptimisation, create_lb_ast

    if dtype not in _kernels.DTYPES:
        raise ValueError(
            f"dtype {dtype!r} is not supported; choose one of {', '.join(_kernels.DTYPES)}"
        )
    src, dst = _kernels.pdf_fields(stencil, dtype)
    opt = LBMOptimisation(symbolic_field=src, symbolic_temporary_field=dst, cse_global=True)
    if index_dtype not in ("int64", "int32"):
        raise ValueError(f"index_dtype {index_dtype!r}: choose 'int64' or 'int32'")
    config = ps.CreateKernelConfig(
        default_dtype=dtype, target=ps.Target.CUDA, index_dtype=index_dtype
    )
    if block_size is not None:
        if len(block_size) != 3 or any(int(b) < 1 for b in block_size):
            raise ValueError(f"block_size {block_size}: give three positive thread counts")
        if math.prod(block_size) > 1024:
            raise ValueError(f"block_size {block_size}: at most 1024 threads per block")
        config.gpu.default_block_size = tuple(int(b) for b in block_size)
    return create_lb_ast(
        lbm_config=_kernels.lb_method_config(stencil, method, forced, compressible),
        lbm_optimisation=opt,
        config=config,
    )


@functools.cache
def compiled_stream_collide(
    stencil: str,
    method: str,
    dtype: str,
    forced: bool = False,
    compressible: bool = False,
    block_size: tuple[int, int, int] | None = None,
    index_dtype: str = "int64",
):
    """The CUDA stream-collide kernel compiled for this process's GPU (needs CuPy)."""
    require_cupy()
    return stream_collide_kernel(
        stencil, method, dtype, forced, compressible, block_size, index_dtype
    ).compile()


def empty_pdfs(cp: Any, shape: tuple[int, ...], q: int, dtype: str) -> Any:
    """GPU PDF array ``(*[n + 2 for n in shape], q)`` with x contiguous (as on the CPU)."""
    full = tuple(n + 2 for n in shape)
    raw = cp.zeros((q, *reversed(full)), dtype=dtype)
    return raw.transpose(*range(raw.ndim - 1, -1, -1))


class GpuPeriodicSolver:
    """A fully periodic lattice on the GPU, at rest, or a copy of a CPU solver's state through
    :meth:`from_solver`; ``step(n)`` advances it, ``to_host()`` returns the PDFs as NumPy in the
    CPU solver's layout (``f - w``, ghost layer included)."""

    def __init__(
        self,
        grid: tuple[int, ...],
        nu: float,
        collision: Collision | None = None,
        dtype: str = "float32",
        stencil: str | None = None,
        force: tuple[float, ...] | None = None,
        compressible: bool = False,
        block_size: tuple[int, int, int] | None = None,
        index_dtype: str = "int64",
    ) -> None:
        self.cp = require_cupy()
        self.grid = tuple(int(n) for n in grid)
        self.dim = len(self.grid)
        self.stencil = stencil or ("D2Q9" if self.dim == 2 else "D3Q19")
        self.lattice = _kernels.lattice(self.stencil)
        if self.lattice.dim != self.dim:
            raise ValueError(
                f"stencil {self.stencil} is {self.lattice.dim}-D but the grid {self.grid} is "
                f"{self.dim}-D"
            )
        self.dtype = dtype
        self.collision = collision or TRT()
        self.nu = float(nu)
        self.force = tuple(float(f) for f in force) if force is not None else None
        self._params: dict[str, float] = dict(self.collision.rates(self.nu))
        if self.force is not None:
            if len(self.force) != self.dim:
                raise ValueError(f"force needs {self.dim} components, got {self.force}")
            self._params.update({f"force_{i}": f for i, f in enumerate(self.force)})
        elements = self.lattice.q * math.prod(n + 2 for n in self.grid)
        if index_dtype == "int32" and elements >= 2**31:
            raise ValueError(
                f"{elements:,} PDF values do not fit 32-bit indices: use index_dtype='int64'"
            )
        self._kernel = compiled_stream_collide(
            self.stencil,
            self.collision.name,
            dtype,
            self.force is not None,
            compressible,
            None if block_size is None else tuple(block_size),
            index_dtype,
        )
        self.block_size = block_size
        self.src = empty_pdfs(self.cp, self.grid, self.lattice.q, dtype)
        self.dst = empty_pdfs(self.cp, self.grid, self.lattice.q, dtype)
        self.time = 0
        self._periodic = (True,) * self.dim

    @classmethod
    def from_solver(cls, solver) -> GpuPeriodicSolver:
        """A GPU copy of a fully periodic CPU ``Solver`` (same PDFs, rates and forcing)."""
        if not all(solver.periodic) or solver.boundaries:
            raise ValueError(
                "only fully periodic lattices without boundaries run on the GPU so far; "
                f"this solver has periodic={solver.periodic} and "
                f"{len(solver.boundaries)} boundaries"
            )
        gpu = cls(
            solver.grid,
            solver.nu,
            solver.collision,
            solver.dtype,
            solver.stencil,
            solver.force,
            solver.compressible,
        )
        gpu.src[...] = gpu.cp.asarray(np.ascontiguousarray(solver.src))
        gpu.time = solver.time
        return gpu

    def step(self, n: int = 1) -> None:
        """Advance ``n`` steps (asynchronous: call :meth:`synchronize` before timing)."""
        kernel, params = self._kernel, self._params
        for _ in range(n):
            fill_periodic_ghosts(self.src, self._periodic)
            kernel(src=self.src, dst=self.dst, **params)
            self.src, self.dst = self.dst, self.src
        self.time += n

    def kernel_only(self, n: int = 1) -> None:
        """``n`` stream-collide launches without the ghost copies (timing the kernel alone)."""
        kernel, params = self._kernel, self._params
        for _ in range(n):
            kernel(src=self.src, dst=self.dst, **params)
            self.src, self.dst = self.dst, self.src

    def synchronize(self) -> None:
        self.cp.cuda.Stream.null.synchronize()

    def to_host(self) -> np.ndarray:
        """The PDFs (``f - w``) as a NumPy array in the CPU solver's index order."""
        return self.cp.asnumpy(self.src)
