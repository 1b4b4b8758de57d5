"""``flowlearn predict``, ``flowlearn export`` and ``flowlearn bench surrogate``: a trained
flow surrogate from the command line.

``predict`` runs a trained surrogate (the U-Net ensemble of a ``flowlearn run flow-surrogate``
run directory) on a body drawn by the user, optionally beside the solver; ``export`` writes one
member as ONNX with its normalisation in JSON; ``bench surrogate`` times the surrogate against
the solver. The main app (:mod:`._app`) mounts them. Heavy imports (torch,
xarray, matplotlib, the solver) happen inside the commands.
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer
from rich.table import Table

from flowlearn.cli._args import check_outputs, parse_grid
from flowlearn.cli._console import console, err_console
from flowlearn.cli._console import fail as _fail
from flowlearn.cli._console import note as _note
from flowlearn.cli._console import paragraphs as _paragraphs
from flowlearn.cli._console import warn as _warn
from flowlearn.safety.outputs import MARK

if TYPE_CHECKING:
    pass


#: Kinds of output these commands write (the mark of :mod:`flowlearn.safety.outputs`).
ONNX_EXPORT = "onnx export"

#: Shown in the help of commands that read a trained surrogate.
RUN_DIR_HELP = (
    "Run directory of `flowlearn run flow-surrogate` (its U-Net members: "
    "models/unet-K/checkpoints/best.safetensors)."
)
EXPORT_EPILOG = "Example: flowlearn export RUN_DIR --onnx --out model.onnx"


AllowVersionMismatch = Annotated[
    bool,
    typer.Option(
        "--allow-version-mismatch",
        help="Load checkpoints written by another flowlearn version (results may differ).",
    ),
]
Overwrite = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Replace existing output files that flowlearn did not write as this kind of output "
        "(its own are replaced anyway; a folder, never).",
    ),
]


# ------------------------------------------------------------------------------ surrogate
def load_surrogate(
    run_dir: Path,
    only_member: int | None = None,
    architecture: str = "unet",
    allow_version_mismatch: bool = False,
):
    from flowlearn.safety import MemoryLimitError
    from flowlearn.training import CheckpointError, UnverifiedCheckpointWarning
    from flowlearn.training.surrogate import FlowSurrogate, member_checkpoints

    if not run_dir.is_dir():
        raise _fail(f"run directory {run_dir} does not exist")
    try:
        paths = member_checkpoints(run_dir, architecture)
    except FileNotFoundError as exc:
        raise _fail(str(exc)) from None
    if only_member is not None:
        if not 0 <= only_member < len(paths):
            raise _fail(
                f"--member {only_member} out of range: {run_dir} has {len(paths)} U-Net "
                f"member(s), 0..{len(paths) - 1}"
            )
        paths = [paths[only_member]]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnverifiedCheckpointWarning)
            loaded = FlowSurrogate.load(paths, allow_version_mismatch=allow_version_mismatch)
    except (CheckpointError, FileNotFoundError, MemoryLimitError) as exc:
        raise _fail(f"cannot load the surrogate: {exc}") from None
    finally:
        for w in caught:
            _warn(str(w.message))
    return loaded, paths


@_paragraphs
def export_model(
    run_dir: Annotated[Path, typer.Argument(help=RUN_DIR_HELP)],
    onnx: Annotated[
        bool, typer.Option("--onnx", help="Export as ONNX (the format offered).")
    ] = False,
    out: Annotated[
        Path, typer.Option(help="The .onnx file; its normalisation goes beside it as .json.")
    ] = Path("model.onnx"),
    member: Annotated[int, typer.Option(help="Which ensemble member (0-based).", min=0)] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the random bodies used for the check.")] = 0,
    normalised: Annotated[
        bool,
        typer.Option(
            "--normalised",
            help="Export the bare network, which maps normalised inputs to normalised fields "
            "(the JSON gives the statistics to apply); default: the whole member.",
        ),
    ] = False,
    overwrite: Overwrite = False,
    allow_version_mismatch: AllowVersionMismatch = False,
) -> None:
    """Export one U-Net member for C++/Fortran/... callers: ONNX plus a JSON that describes it.

    The ONNX model maps physical inputs (N, 3, ny, nx) = (sdf in cells, mask, Re) to physical
    fields (N, 3, ny, nx) = (u / U, v / U, (p - p_outlet) / (rho U^2)): the normalisation is
    inside it. The JSON beside it gives the channels, their units and meaning, the grid, the
    trained Reynolds range and the statistics. The export is checked with onnxruntime on real
    inputs (random training-family bodies): the largest absolute difference to PyTorch must be
    <= 1e-4.
    """
    import torch

    from flowlearn import __version__
    from flowlearn.data.flow_fields import make_inputs
    from flowlearn.models.onnx import check_onnx, export_onnx
    from flowlearn.physics.geometry import ShapeError
    from flowlearn.physics.shape_families import TRAIN_FAMILIES, random_shape
    from flowlearn.safety import write_replacing
    from flowlearn.training.surrogate import export_description

    if not onnx:
        raise _fail("choose the export format: --onnx (the only one so far)")
    if out.suffix.lower() != ".onnx":
        raise _fail(f"--out {out} must end in .onnx")
    json_path = out.with_suffix(".json")
    check_outputs([(out, ONNX_EXPORT, (".onnx",)), (json_path, ONNX_EXPORT, (".json",))], overwrite)
    surrogate, paths = load_surrogate(
        run_dir, only_member=member, allow_version_mismatch=allow_version_mismatch
    )
    chosen = surrogate.members[0].eval()
    net = chosen.net if normalised else chosen
    nx, ny = surrogate.grid
    rng = np.random.default_rng(seed)
    lo, hi = surrogate.re_range
    sdfs, families = [], []
    try:
        for family in rng.choice(TRAIN_FAMILIES, size=2, replace=False):
            sdfs.append(random_shape(str(family), rng, (nx, ny)).sample(nx, ny, 1.0))
            families.append(str(family))
    except (ShapeError, ValueError) as exc:
        raise _fail(f"cannot draw a test body on the {nx}x{ny} grid: {exc}") from None
    sdf = np.stack(sdfs).astype(np.float32)
    res = rng.uniform(lo, hi, size=len(sdf))
    x = torch.from_numpy(make_inputs(sdf, sdf < 0, res))
    if normalised:
        x = chosen.normaliser.inputs(x)[:, chosen.channels]
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    with console.status("exporting to ONNX"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exporter_log.setLevel(logging.ERROR)  # "torchvision is not installed" notes
        try:
            write_replacing(
                out,
                lambda tmp: export_onnx(
                    net, x[:1], tmp, dynamic_batch=True, metadata={MARK: ONNX_EXPORT}
                ),
            )
        except ImportError as exc:
            raise _fail(str(exc)) from None
        except Exception as exc:  # the exporter's errors are of many types
            raise _fail(f"ONNX export failed: {exc}", code=1) from None
        finally:
            exporter_log.setLevel(level)
    try:
        diff = check_onnx(out, net, x, atol=1e-4)
    except ValueError as exc:
        raise _fail(f"{exc}; the ONNX file is kept at {out} for inspection", code=1) from None
    meta = {
        MARK: ONNX_EXPORT,
        "format": "flowlearn flow-surrogate member, ONNX",
        "flowlearn_version": __version__,
        "onnx": out.name,
        "run_dir": str(run_dir),
        "member": member,
        "checkpoint": str(paths[0]),
        **export_description(chosen, surrogate.grid, normalised),
        "check": {
            "max_abs_diff": diff,
            "atol": 1e-4,
            "inputs": f"{len(sdf)} random bodies ({', '.join(families)}), seed {seed}",
        },
    }
    write_replacing(
        json_path, lambda tmp: tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    )
    size = out.stat().st_size / 1e6
    _note(f"wrote {out} ({size:.2f} MB) and {json_path} (channels, normalisation, grid)")
    _note(
        f"onnxruntime vs PyTorch on {len(sdf)} real inputs: max abs difference {diff:.2e} (<= 1e-4)"
    )


# ------------------------------------------------------------------------------ bench
BENCH_EPILOG = "Example: flowlearn bench surrogate --grid 64x32 --n-lbm 3"


@_paragraphs
def bench_surrogate(
    run_dir: Annotated[
        Path | None,
        typer.Argument(help=RUN_DIR_HELP + " Without it: an untrained default-size U-Net."),
    ] = None,
    grid: Annotated[
        str | None,
        typer.Option(help="Cells NXxNY without RUN_DIR (default 64x32); with it, its grid."),
    ] = None,
    n_lbm: Annotated[int, typer.Option(help="Steady LBM samples to time.", min=1)] = 3,
    architecture: Annotated[
        str,
        typer.Option(
            help="unet (the ensemble, default), guo (Guo et al.'s CNN on the same inputs) or "
            "guo-shape (on the shape alone, their original inputs)."
        ),
    ] = "unet",
    repeats: Annotated[int, typer.Option(help="Timed surrogate calls per batch size.", min=1)] = 5,
    threads: Annotated[
        int,
        typer.Option(
            help="Threads of the LBM and of the network alike (default 1: one core each, as "
            "samples run side by side).",
            min=1,
        ),
    ] = 1,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the results as JSON (stdout) instead.")
    ] = False,
    equal_accuracy: Annotated[
        int,
        typer.Option(
            "--equal-accuracy",
            help="With RUN_DIR: also make N fresh LBM samples and measure, interleaved on one "
            "core, the LBM's cost-accuracy curve (coarser, faster, stopped early), the "
            "speed-up at equal accuracy, the break-even (with the run's costs from its "
            "metrics.json) and the warm start from the prediction. 0: skip.",
            min=0,
        ),
    ] = 0,
    allow_version_mismatch: AllowVersionMismatch = False,
) -> None:
    """Surrogate vs solver, same machine, same grid, same bodies: seconds per sample and the
    speed-up at batch 1 and 64 (LBM to steady state, kernel compilation excluded); with
    --equal-accuracy, the speed-up at equal accuracy and the break-even too."""
    from flowlearn.data.flow_dataset import DatasetError, FlowDatasetSpec
    from flowlearn.evaluation.surrogate_bench import bench, untrained_surrogate
    from flowlearn.physics.shape_families import TRAIN_FAMILIES

    out_console = err_console if json_out else console
    if architecture not in ("unet", "guo", "guo-shape"):
        raise _fail(f"--architecture {architecture!r}: choose unet or guo, or guo-shape")
    tries = 4 * n_lbm + 2
    with out_console.status("preparing") as status, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NaN checks of a diverging sample
        if run_dir is not None:
            surrogate, _ = load_surrogate(
                run_dir, architecture=architecture, allow_version_mismatch=allow_version_mismatch
            )
            sgrid = tuple(surrogate.grid)
            if grid is not None and parse_grid(grid) != sgrid:
                raise _fail(
                    f"--grid {grid} differs from the surrogate's grid {sgrid[0]}x{sgrid[1]}: "
                    "leave --grid out to time it on its own grid"
                )
            re_range = surrogate.re_range
            kind = {"unet": "U-Net ensemble", "guo": "Guo CNN", "guo-shape": "shape-only Guo CNN"}[
                architecture
            ]
            what = f"{len(surrogate.members)}-member {kind} of {run_dir}"
        else:
            sgrid = parse_grid(grid or "64x32")
            re_range = (10.0, 40.0)
            what = (
                "untrained FlowUNet(base 16, depth 3)"
                if architecture == "unet"
                else f"untrained GuoCNN(width 16, {architecture})"
            ) + ": timing does not depend on the weights"
        try:
            spec = FlowDatasetSpec(grid=sgrid, n=tries, re=re_range, families=TRAIN_FAMILIES)
        except DatasetError as exc:
            raise _fail(str(exc)) from None
        if run_dir is None:
            try:
                surrogate = untrained_surrogate(sgrid, spec, architecture, status.update)
            except ValueError as exc:
                raise _fail(str(exc)) from None
            except RuntimeError as exc:  # the solver found no steady flow to time
                raise _fail(str(exc), code=1) from None

        def progress(i: int, rec: dict[str, Any]) -> None:
            status.update(f"LBM sample {i}: {rec['status']} in {rec['seconds']:.2f} s")

        status.update("LBM warm-up (kernel compilation, not timed)")
        try:
            result = bench(
                surrogate, spec, n_lbm, threads=threads, repeats=repeats, max_tries=tries,
                progress=progress,
            )  # fmt: skip
        except ValueError as exc:
            raise _fail(str(exc), code=1) from None
    result["surrogate"]["model"] = what
    if equal_accuracy:
        if run_dir is None:
            raise _fail("--equal-accuracy needs RUN_DIR: the accuracy of a trained surrogate")
        result["cost_accuracy"] = _equal_accuracy(
            run_dir, surrogate, spec, equal_accuracy, architecture, out_console
        )
    if json_out:
        from flowlearn.experiments import jsonable

        typer.echo(json.dumps(jsonable(result), indent=2))
        return
    lbm = result["lbm"]
    sur = result["surrogate"]
    _note(f"surrogate: {what}")
    _note(
        f"grid {sgrid[0]}x{sgrid[1]}, Re {re_range[0]:g}-{re_range[1]:g}; threads: LBM "
        f"{result['threads']['lbm']}, torch {result['threads']['torch']}"
    )
    table = Table(title="seconds per sample, this machine")
    table.add_column("")
    table.add_column("s / sample", justify="right")
    table.add_column("speed-up", justify="right")
    mean = lbm["mean_s"]
    table.add_row(
        f"LBM to steady state (mean of {lbm['ok']})",
        "-" if not math.isfinite(mean) else f"{mean:.3g}",
        "1x",
    )
    for b, s in sur["per_sample_s"].items():
        ratio = result["speedup"][b]
        table.add_row(
            f"surrogate, batch {b}",
            f"{s:.3g}",
            "-" if not math.isfinite(ratio) else f"{ratio:.3g}x",
        )
    console.print(table)
    if lbm["not_ok"]:
        bad = [f"{i} ({st})" for i, st in zip(lbm["indices"], lbm["status"], strict=True)
               if st != "ok"]  # fmt: skip
        _note(f"{lbm['not_ok']} LBM sample(s) not steady, left out of the mean: {', '.join(bad)}")
    if not lbm["ok"]:
        _warn("no LBM sample reached a steady state: no speed-up to report; try a larger --grid")
    if "cost_accuracy" in result:
        _equal_accuracy_table(result["cost_accuracy"])


def _run_costs(run_dir: Path, architecture: str) -> tuple[dict[str, float] | None, float | None]:
    """The run's training seconds per network and the LBM seconds of its data, from its
    metrics.json (None when it has none or an older one)."""
    try:
        metrics = json.loads((Path(run_dir) / "metrics.json").read_text()).get("metrics") or {}
    except (OSError, ValueError):
        return None, None
    test = (metrics.get("cost_accuracy") or {}).get("test") or {}
    nets = test.get("networks") or {}
    name = "ensemble" if architecture == "unet" else architecture
    source = nets.get("ensemble" if architecture == "unet" else architecture) or {}
    if source.get("training_s") is None or test.get("data_seconds") is None:
        return None, None
    return {name: float(source["training_s"])}, float(test["data_seconds"])


def _equal_accuracy(run_dir, surrogate, spec, n: int, architecture: str, out_console):
    from flowlearn.data.flow_dataset import FlowDatasetSpec
    from flowlearn.evaluation import cost_accuracy as ca

    fresh = FlowDatasetSpec(
        grid=spec.grid, n=2 * n + 4, re=spec.re, families=spec.families, seed=spec.seed + 1000
    )
    name = "ensemble" if architecture == "unet" else architecture
    with out_console.status("fresh LBM samples (the reference)") as status:
        try:
            data = ca.reference_samples(
                fresh, n, progress=lambda d, t: status.update(f"reference sample {d}/{t}")
            )
        except RuntimeError as exc:
            raise _fail(str(exc), code=1) from None
        status.update("cost-accuracy curve, networks and warm starts, interleaved")
        measured = ca.measure(
            fresh,
            data,
            range(len(data)),
            {name: surrogate.to("cpu")},
            progress=lambda d, t: status.update(f"cost-accuracy: sample {d}/{t}"),
        )
    costs, data_s = _run_costs(run_dir, architecture)
    return ca.summarise(measured, costs, data_s)


def _equal_accuracy_table(summary: dict[str, Any]) -> None:
    from flowlearn.evaluation import cost_accuracy as ca

    rows = {r["label"]: r for r in summary["lbm"]}
    table = Table(title=f"the LBM's cost-accuracy front ({summary['samples']} fresh samples)")
    for col in ("LBM setting", "ms / sample", "mean error", "95th pct", "drag error", "fallbacks"):
        table.add_column(col, justify="left" if col == "LBM setting" else "right")
    for label in summary["front"]:
        r = rows[label]
        table.add_row(
            label,
            f"{1e3 * r['seconds']['median']:.3g}",
            f"{r['error_mean']:.2%}",
            f"{r['error_p95']:.2%}",
            f"{r['cd_error_median']:.2%}",
            str(sum(r["fallbacks"].values())),
        )
    console.print(table)
    for name, net in summary["networks"].items():
        for b, eq in net["equal_accuracy"].items():
            pays = ca.break_even_phrase(net["break_even"][b])
            at = net["lbm_error_at_equal_time"][b]
            _note(
                f"{name}, batch {b}: error {net['error_mean']:.2%}, "
                f"{1e3 * net['seconds'][b]['median']:.3g} ms; x{eq['speedup']:.2f} at equal "
                f"accuracy ({eq['bound']}); the LBM at equal time: "
                + (f"{at['error']:.2%}" if at["error"] is not None else at["reason"])
                + f"; {pays}"
            )
    for start, w in (summary.get("warm") or {}).items():
        if start == "uniform":
            continue
        _note(
            f"warm start from {start}: x{w['step_ratio_median']:.2f} fewer steps, "
            f"x{w['time_ratio_median']:.2f} in time (median sample); converged within "
            f"{w['max_difference']:.1e} U of the uniform start"
        )
