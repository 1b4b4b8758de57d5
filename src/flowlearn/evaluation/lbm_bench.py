"""Speed of the lattice Boltzmann solver against the memory-bandwidth bound of this machine.

An LBM update streams every population once in and once out: ``2 Q sizeof(real)`` bytes per
cell (with streaming stores; more without). The bound is therefore ``B / (2 Q sizeof)``
cell updates per second for a memory bandwidth ``B``, which is measured in the same run with
a STREAM-like copy and triad in NumPy (threads over chunks; NumPy releases the GIL).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np

from flowlearn.physics.lbm import (
    Obstacle,
    PressureOutlet,
    VelocityInlet,
    default_threads,
    lattice,
    make_solver,
    vector_instruction_set,
)
from flowlearn.physics.lbm.collision import collision_from_name


@dataclass
class BenchRow:
    """One measurement: ``mlups`` million lattice updates per second and its bound."""

    case: str
    stencil: str
    dtype: str
    shape: tuple[int, ...]
    threads: int
    mlups: float
    bound_mlups: float
    steps: int
    seconds: float

    @property
    def fraction(self) -> float:
        return self.mlups / self.bound_mlups

    def to_dict(self) -> dict:
        return {**asdict(self), "shape": list(self.shape), "fraction": self.fraction}


def stream_bandwidth(
    mbytes: int = 256, threads: int | None = None, repeats: int = 5
) -> dict[str, float]:
    """Best copy and triad bandwidth (GB/s, STREAM counting: copy 2 words, triad 3 words per
    element) over 1..``threads`` threads, arrays of ``mbytes`` MB each (>> last-level cache)."""
    threads = threads or default_threads()
    n = mbytes * 2**20 // 8
    a = np.ones(n)
    b = np.ones(n)
    c = np.ones(n)
    best = {"copy": 0.0, "triad": 0.0}
    for t in range(1, threads + 1):
        bounds = np.linspace(0, n, t + 1).astype(int)
        chunks = [slice(lo, hi) for lo, hi in itertools.pairwise(bounds)]

        def copy(s: slice) -> None:
            np.copyto(b[s], a[s])

        def triad(s: slice) -> None:
            np.multiply(c[s], 3.0, out=a[s])
            np.add(a[s], b[s], out=a[s])

        with ThreadPoolExecutor(t) as pool:
            for name, fn, words in (("copy", copy, 2), ("triad", triad, 3)):
                for _ in range(repeats):
                    start = time.perf_counter()
                    list(pool.map(fn, chunks))
                    dt = time.perf_counter() - start
                    best[name] = max(best[name], words * 8 * n / dt / 1e9)
    return best


def _time(step: Callable[[int], None], cells: int, min_seconds: float) -> tuple[float, int, float]:
    step(2)  # first touch, warm caches, page faults
    steps = 4
    while True:
        start = time.perf_counter()
        step(steps)
        dt = time.perf_counter() - start
        if dt >= min_seconds or steps >= 1 << 20:
            return cells * steps / dt / 1e6, steps, dt
        steps = max(steps * 2, int(steps * min_seconds / max(dt, 1e-6)))


def bare_kernel_mlups(
    shape: tuple[int, ...],
    dtype: str,
    min_seconds: float = 1.0,
    threads: int | None = None,
    collision: str = "trt",
) -> tuple[float, int, float]:
    """Fully periodic box (kernel + periodic ghost copies): the lbmpy kernel's own speed."""
    solver = make_solver(
        shape,
        0.05,
        periodic=(True,) * len(shape),
        dtype=dtype,
        threads=threads,
        collision=collision_from_name(collision),
    )
    return _time(solver.step, int(np.prod(shape)), min_seconds)


def batched_cylinders(
    nx: int = 256,
    ny: int = 128,
    batch: int = 8,
    dtype: str = "float32",
    threads: int | None = None,
):
    """``batch`` channels of ``nx`` x ``ny`` with a cylinder each, stacked along y in one
    lattice (one kernel launch per step serves all of them); separating walls are part of
    the obstacle SDF. Returns the solver."""
    height = ny * batch
    radius = ny / 10
    centres = [(nx / 5 + 3 * k % 7, ny * (k + 0.5) + (k % 3 - 1)) for k in range(batch)]

    def bodies(p: np.ndarray) -> np.ndarray:
        d = np.full(len(p), np.inf)
        for cx, cy in centres:
            d = np.minimum(d, np.hypot(p[:, 0] - cx, p[:, 1] - cy) - radius)
        return d

    def separators(p: np.ndarray) -> np.ndarray:
        # one solid row at each multiple of ny between the channels (on the grid: plain
        # bounce-back is exact there and cheaper than the interpolated rule)
        nearest = np.clip(np.round(p[:, 1] / ny), 1, batch - 1) * ny
        return np.abs(p[:, 1] - nearest) - 0.5

    def inlet(points: np.ndarray) -> np.ndarray:
        yy = np.mod(points[:, 1], ny)
        ux = 4 * 0.05 * yy * (ny - yy) / ny**2
        return np.stack([ux, np.zeros_like(ux)], axis=1)

    return make_solver(
        (nx, height),
        0.02,
        boundaries=[
            VelocityInlet("west", inlet),
            PressureOutlet("east"),
            Obstacle(bodies),
            *(
                [Obstacle(separators, interpolated=False, name="walls", touch_edges=True)]
                if batch > 1
                else []
            ),
        ],
        dtype=dtype,
        threads=threads,
    )


def run_benchmark(
    quick: bool = False,
    threads: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """All measurements: ``{"bandwidth_gbs", "rows", "obstacle_vs_bare", "best"}``.

    Full: D2Q9 float32/float64 at 256x128 (8 cylinders batched), 1024^2 and 4096^2 (TRT, and
    BGK for float32), D3Q19 float32 at 128^3; TRT unless marked BGK. Every row is measured
    with 1 .. ``threads`` OpenMP threads (on a shared machine one thread can win). ``quick``
    shrinks the large cases (4096^2 -> 2048^2, 128^3 -> 64^3) and the timing windows.
    """
    say = progress or (lambda _msg: None)
    max_threads = threads or default_threads()
    min_s = 0.3 if quick else 1.0
    say("memory bandwidth (STREAM copy / triad)")
    bw = stream_bandwidth(mbytes=128 if quick else 256, threads=max_threads)
    bandwidth = max(bw.values())
    rows: list[BenchRow] = []

    def bound(stencil: str, dtype: str) -> float:
        per_cell = 2 * lattice(stencil).q * np.dtype(dtype).itemsize
        return bandwidth * 1e9 / per_cell / 1e6

    def add(case, stencil, dtype, shape, th, measured):
        m, steps, dt = measured
        rows.append(
            BenchRow(case, stencil, dtype, tuple(shape), th, m, bound(stencil, dtype), steps, dt)
        )
        return m

    big = 2048 if quick else 4096
    cube = 64 if quick else 128
    ratio: dict[str, float] = {}
    for th in range(1, max_threads + 1):
        for dtype in ("float32", "float64"):
            say(f"{th} thread(s): D2Q9 {dtype} 256x128 x 8 cylinders (batched)")
            solver = batched_cylinders(dtype=dtype, threads=th)
            cells = int(np.prod(solver.grid))
            m = add(
                "8 cylinders 256x128",
                "D2Q9",
                dtype,
                solver.grid,
                th,
                _time(solver.step, cells, min_s),
            )
            say(f"{th} thread(s): D2Q9 {dtype} bare periodic kernel {solver.grid}")
            mb = add(
                "periodic (same size)",
                "D2Q9",
                dtype,
                solver.grid,
                th,
                bare_kernel_mlups(solver.grid, dtype, min_s, th),
            )
            key = f"{dtype}, {th} thread(s)"
            ratio[key] = m / mb
            for n in (1024, big):
                say(f"{th} thread(s): D2Q9 {dtype} periodic {n}^2")
                add(
                    f"periodic {n}^2",
                    "D2Q9",
                    dtype,
                    (n, n),
                    th,
                    bare_kernel_mlups((n, n), dtype, min_s, th),
                )
        # TRT does more flops per cell than BGK; measuring both on the largest grid shows
        # whether the TRT kernel is compute- or memory-bound here.
        say(f"{th} thread(s): D2Q9 float32 periodic {big}^2 with BGK collision")
        add(
            f"periodic {big}^2 BGK",
            "D2Q9",
            "float32",
            (big, big),
            th,
            bare_kernel_mlups((big, big), "float32", min_s, th, "bgk"),
        )
        say(f"{th} thread(s): D3Q19 float32 periodic {cube}^3")
        add(
            f"periodic {cube}^3",
            "D3Q19",
            "float32",
            (cube,) * 3,
            th,
            bare_kernel_mlups((cube,) * 3, "float32", min_s, th),
        )
    best: dict[str, dict] = {}
    for r in rows:
        key = f"{r.case} {r.stencil} {r.dtype}"
        if key not in best or r.mlups > best[key]["mlups"]:
            best[key] = r.to_dict()
    return {
        "threads": max_threads,
        "vector_instruction_set": vector_instruction_set(),
        "bandwidth_gbs": bw,
        "rows": [r.to_dict() for r in rows],
        "best": list(best.values()),
        "obstacle_vs_bare": ratio,
    }


# ----------------------------------------------------------------------------------- GPU
def gpu_bandwidth(mbytes: int = 1024, repeats: int = 20) -> dict[str, float]:
    """Device-memory bandwidth (GB/s) of a device-to-device copy of ``mbytes`` MB, counting the
    bytes read and written, best of ``repeats`` (timed with CUDA events)."""
    from flowlearn.physics.lbm.gpu import require_cupy

    cp = require_cupy()
    n = mbytes * 2**20 // 4
    a = cp.ones(n, dtype=cp.float32)
    b = cp.empty_like(a)
    start, stop = cp.cuda.Event(), cp.cuda.Event()
    best = 0.0
    for _ in range(repeats + 2):
        start.record()
        cp.copyto(b, a)
        stop.record()
        stop.synchronize()
        dt = cp.cuda.get_elapsed_time(start, stop) / 1e3
        best = max(best, 2 * a.nbytes / dt / 1e9)
    return {"copy": best}


def run_gpu_benchmark(quick: bool = False, progress: Callable[[str], None] | None = None) -> dict:
    """The GPU rows: D2Q9 float32/float64 periodic at 256x128, 1024^2 and 4096^2 (2048^2 when
    ``quick``), BGK float32 at the largest, D3Q19 float32 at 128^3 (64^3), each as a full step
    (kernel and periodic ghost copies) beside the copy bandwidth bound measured in the same run;
    the kernel alone is given as ``kernel_mlups``. The 4096^2 and 128^3 TRT cases run with
    pystencils' default thread block and with 128 x 1 x 1 blocks, with 64-bit and 32-bit
    indices (``block``)."""
    from flowlearn.physics.lbm.collision import BGK, TRT
    from flowlearn.physics.lbm.gpu import GpuPeriodicSolver, require_cupy

    cp = require_cupy()
    say = progress or (lambda _msg: None)
    min_s = 0.3 if quick else 1.0
    say("GPU memory bandwidth (device-to-device copy)")
    bw = gpu_bandwidth(mbytes=256 if quick else 1024)
    bandwidth = bw["copy"]
    big = 2048 if quick else 4096
    cube = 64 if quick else 128
    # Each case with pystencils' default thread block and with warps along x (row blocks):
    # which shape a kernel should use is measured here rather than assumed.
    rows_of = (128, 1, 1)
    i64, i32 = "int64", "int32"
    cases = [
        ("periodic 256x128 (one dataset-sized lattice)", (256, 128), "float32", TRT(), None, i64),
        ("periodic 1024^2", (1024, 1024), "float32", TRT(), None, i64),
        (f"periodic {big}^2", (big, big), "float32", TRT(), None, i64),
        (f"periodic {big}^2", (big, big), "float32", TRT(), rows_of, i64),
        (f"periodic {big}^2", (big, big), "float32", TRT(), rows_of, i32),
        (f"periodic {big}^2", (big, big), "float64", TRT(), None, i64),
        (f"periodic {big}^2", (big, big), "float64", TRT(), rows_of, i32),
        (f"periodic {big}^2 BGK", (big, big), "float32", BGK(), None, i64),
        (f"periodic {cube}^3", (cube,) * 3, "float32", TRT(), None, i64),
        (f"periodic {cube}^3", (cube,) * 3, "float32", TRT(), rows_of, i32),
    ]
    rows = []
    for case, shape, dtype, collision, block, index in cases:
        say(f"GPU {case} {dtype} block {block or 'default'} {index} indices")
        solver = GpuPeriodicSolver(
            shape, 0.05, collision, dtype, block_size=block, index_dtype=index
        )
        cells = int(np.prod(shape))

        def full(n: int, s: GpuPeriodicSolver = solver) -> None:
            s.step(n)
            s.synchronize()

        def kernel(n: int, s: GpuPeriodicSolver = solver) -> None:
            s.kernel_only(n)
            s.synchronize()

        m, steps, dt = _time(full, cells, min_s)
        kernel_mlups = _time(kernel, cells, min_s)[0]
        per_cell = 2 * solver.lattice.q * np.dtype(dtype).itemsize
        row = BenchRow(
            case,
            solver.stencil,
            dtype,
            tuple(shape),
            0,  # threads: none, the GPU
            m,
            bandwidth * 1e9 / per_cell / 1e6,
            steps,
            dt,
        ).to_dict()
        row["block"] = ("default" if block is None else "x".join(map(str, block))) + (
            f", {index}" if index != i64 else ""
        )
        row["kernel_mlups"] = kernel_mlups
        row["kernel_fraction"] = kernel_mlups / row["bound_mlups"]
        rows.append(row)
        del solver
        cp.get_default_memory_pool().free_all_blocks()
    props = cp.cuda.runtime.getDeviceProperties(0)
    name = props["name"]
    return {
        "device": name.decode() if isinstance(name, bytes) else str(name),
        "bandwidth_gbs": bw,
        "rows": rows,
    }
