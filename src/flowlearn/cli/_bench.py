"""``flowlearn bench lbm``: the Typer app ``bench_app``, mounted by the main CLI (which adds
``bench surrogate``), measures speed beside the memory-bandwidth bound measured alongside.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flowlearn.cli._console import command_group, console, warn
from flowlearn.cli._console import fail as _fail

bench_app = command_group(
    "bench",
    "Speed benchmarks measured on this machine.",
    "Example: flowlearn bench lbm --quick",
)


@bench_app.callback()
def _bench_group() -> None:
    """Speed benchmarks measured on this machine."""
    # A callback keeps ``bench`` a command group even with a single command, so the command
    # line is ``flowlearn bench lbm`` whether the app runs alone or mounted in the main CLI.


@bench_app.command("lbm", epilog="Example: flowlearn bench lbm --quick --json bench.json")
def bench_lbm(
    quick: Annotated[bool, typer.Option(help="smaller grids, about a minute")] = False,
    threads: Annotated[int | None, typer.Option(help="OpenMP threads (default: all cores)")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the results here")] = None,
    gpu: Annotated[
        bool, typer.Option("--gpu", help="on the CUDA GPU through CuPy instead of the CPU")
    ] = False,
) -> None:
    """Lattice Boltzmann speed (MLUPS) beside the memory-bandwidth bound measured alongside."""
    from flowlearn.evaluation import lbm_bench

    if json_out is not None:
        _check_json(json_out)

    if gpu:
        _bench_gpu(quick, json_out)
        return
    with console.status("benchmarking") as status:
        result = lbm_bench.run_benchmark(
            quick=quick, threads=threads, progress=lambda m: status.update(m)
        )
    bw = result["bandwidth_gbs"]
    isa = result["vector_instruction_set"]
    if isa:
        console.print(f"kernels vectorised for {isa} (pystencils)")
    else:
        warn(
            "pystencils found no vector instruction set (on x86: py-cpuinfo is missing): the "
            "kernels run scalar, at about 60 % of their speed; pip install py-cpuinfo"
        )
    console.print(
        f"memory bandwidth: copy {bw['copy']:.1f} GB/s, triad {bw['triad']:.1f} GB/s "
        f"({result['threads']} threads); bound = best / (2 Q sizeof) per cell update"
    )
    table = Table(title="flowlearn LBM speed (best thread count per case)")
    for col in ("case", "lattice", "real", "grid", "threads", "MLUPS", "bound", "fraction"):
        right = col in ("threads", "MLUPS", "bound", "fraction")
        table.add_column(col, justify="right" if right else "left")
    for r in result["best"]:
        table.add_row(
            r["case"],
            r["stencil"],
            r["dtype"],
            "x".join(map(str, r["shape"])),
            str(r["threads"]),
            f"{r['mlups']:.1f}",
            f"{r['bound_mlups']:.1f}",
            f"{r['fraction']:.0%}",
        )
    console.print(table)
    for key, ratio in result["obstacle_vs_bare"].items():
        console.print(f"8-cylinder case / bare periodic kernel, same lattice ({key}): {ratio:.0%}")
    if json_out is not None:
        _write_json(json_out, result)


#: The kind of output ``bench lbm --json`` writes (see :mod:`flowlearn.safety.outputs`).
BENCH_JSON = "lbm benchmark"


def _check_json(path: Path) -> None:
    from flowlearn.safety import OutputError, check_target

    try:
        check_target(path, what="--json", kind=BENCH_JSON, suffixes=(".json",))
    except OutputError as exc:
        raise _fail(str(exc)) from None


def _write_json(path: Path, result: dict) -> None:
    from flowlearn.safety import MARK, write_replacing

    body = json.dumps({MARK: BENCH_JSON, **result}, indent=2)
    write_replacing(path, lambda tmp: tmp.write_text(body, encoding="utf-8"))
    console.print(f"wrote {path}")


def _bench_gpu(quick: bool, json_out: Path | None) -> None:
    from flowlearn.evaluation.lbm_bench import run_gpu_benchmark
    from flowlearn.physics.lbm.gpu import cupy_module

    if cupy_module() is None:
        raise _fail(
            "--gpu needs CuPy and a CUDA device: install cupy-cuda12x or cupy-cuda13x on a "
            "machine with an NVIDIA GPU, or leave --gpu out to measure the CPU"
        )
    with console.status("benchmarking the GPU") as status:
        result = run_gpu_benchmark(quick=quick, progress=lambda m: status.update(m))
    console.print(
        f"{result['device']}: device-to-device copy {result['bandwidth_gbs']['copy']:.0f} GB/s "
        "(read + write); bound = copy / (2 Q sizeof) per cell update"
    )
    table = Table(title="flowlearn LBM speed on the GPU (full step = kernel + periodic copies)")
    cols = ("case", "lattice", "real", "grid", "block", "MLUPS", "kernel only", "bound", "fraction")
    for col in cols:
        left = col in ("case", "lattice", "real", "block")
        table.add_column(col, justify="left" if left else "right")
    for r in result["rows"]:
        table.add_row(
            r["case"],
            r["stencil"],
            r["dtype"],
            "x".join(map(str, r["shape"])),
            r["block"],
            f"{r['mlups']:.0f}",
            f"{r['kernel_mlups']:.0f}",
            f"{r['bound_mlups']:.0f}",
            f"{r['fraction']:.0%}",
        )
    console.print(table)
    if json_out is not None:
        _write_json(json_out, result)
