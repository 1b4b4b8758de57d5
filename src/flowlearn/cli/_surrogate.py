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
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer
from rich.table import Table

from flowlearn.cli._console import console, err_console, lbm_progress
from flowlearn.cli._console import fail as _fail
from flowlearn.cli._console import note as _note
from flowlearn.cli._console import paragraphs as _paragraphs
from flowlearn.cli._console import warn as _warn
from flowlearn.cli._dataset import parse_grid
from flowlearn.safety.outputs import MARK

if TYPE_CHECKING:
    from flowlearn.physics.geometry import Shape


#: Kinds of output these commands write (the mark of :mod:`flowlearn.safety.outputs`).
PREDICTION = "prediction"
ONNX_EXPORT = "onnx export"

#: Shown in the help of commands that read a trained surrogate.
RUN_DIR_HELP = (
    "Run directory of `flowlearn run flow-surrogate` (its U-Net members: "
    "models/unet-K/checkpoints/best.safetensors)."
)
PREDICT_EPILOG = "Example: flowlearn predict RUN_DIR --shape body.csv --re 30 --compare"
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


def _check_outputs(targets: list[tuple[Path, str, tuple[str, ...]]], overwrite: bool) -> None:
    """Refuse, before any computing, outputs ``(path, kind, suffixes)`` that could not or
    must not be written."""
    from flowlearn.safety import OutputError, check_target

    try:
        for path, kind, suffixes in targets:
            check_target(path, what="output", kind=kind, suffixes=suffixes, overwrite=overwrite)
    except OutputError as exc:
        raise _fail(str(exc)) from None


# ------------------------------------------------------------------------------ surrogate
def _load_surrogate(
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


def _prediction_dataset(fields, spread, sdf, mask, attrs: dict[str, Any]):
    """The prediction as an xarray Dataset: the fields and their spread under the names and
    units of the data contract (:mod:`flowlearn.data.flow_fields`), the speed, mask and SDF."""
    import xarray as xr

    from flowlearn.data.flow_fields import FIELDS, channel

    ny, nx = mask.shape
    dims = ("y", "x")
    data: dict[str, Any] = {}
    for k, c in enumerate(FIELDS):
        data[c.name] = (dims, fields[k], c.attrs)
    data["speed"] = (dims, np.hypot(fields[0], fields[1]), {"units": "U"})
    for k, c in enumerate(FIELDS):
        data[f"spread_{c.name}"] = (
            dims,
            spread[k],
            {"units": c.units, "long_name": f"ensemble std of {c.long_name}"},
        )
    data["mask"] = (dims, mask.astype(np.int8), channel("mask").attrs)
    data["sdf"] = (dims, sdf, channel("sdf").attrs)
    coords = {
        "x": ("x", np.arange(nx) + 0.5, {"units": "cells"}),
        "y": ("y", np.arange(ny) + 0.5, {"units": "cells"}),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def _run_lbm(shape: Shape, grid: tuple[int, int], re: float):
    """The solver on ``shape`` to steady state with a progress bar, by the dataset's recipe
    (:func:`~flowlearn.data.flow_dataset.run_to_steady`); returns ``(fields, mask, report,
    setup seconds)``."""
    from flowlearn.data.flow_dataset import FlowDatasetSpec, run_to_steady, steady_case
    from flowlearn.physics.geometry import ShapeError
    from flowlearn.physics.lbm import DivergenceError, StabilityWarning

    spec = FlowDatasetSpec(grid=grid, n=1, re=(re, re))
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StabilityWarning)
        try:
            case = steady_case(spec, shape, re, threads=None)
        except (ShapeError, ValueError) as exc:
            raise _fail(f"the solver cannot set up this body: {exc}") from None
    for w in caught:
        _warn(str(w.message))
    setup = time.perf_counter() - start
    with lbm_progress("LBM", spec.max_steps) as update:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                report = run_to_steady(spec, case, callback=update)
        except DivergenceError as exc:
            raise _fail(f"the LBM diverged, nothing to compare with: {exc}", code=1) from None
    fields, mask = case.fields()
    return fields.astype(np.float32), mask, report, setup


@_paragraphs
def predict(
    run_dir: Annotated[Path, typer.Argument(help=RUN_DIR_HELP)],
    shape: Annotated[
        Path,
        typer.Option(
            help="The body: a .csv polygon of x,y rows (closed: the last row repeats the first; "
            "x from the inlet, y from the bottom wall) whose first line says its units, "
            "'# units: H' (channel heights: the channel is [0, nx/ny] x [0, 1]) or "
            "'# units: m' (metres in the 0.41 m high channel of flowlearn simulate shape), as "
            "flowlearn simulate shape reads it; or a .png mask of exactly nx x ny pixels, dark "
            "= solid, top row = top wall."
        ),
    ],
    re: Annotated[
        float,
        typer.Option(
            "--re",
            help="Reynolds number U L / nu, L = the body's "
            "largest bounding-box extent (as in training).",
        ),
    ],
    out: Annotated[
        Path, typer.Option(help="Folder for prediction.nc, prediction.vti and prediction.png.")
    ] = Path("prediction"),
    compare: Annotated[
        bool,
        typer.Option(
            "--compare", help="Also run the LBM to steady state and report the surrogate's error."
        ),
    ] = False,
    units: Annotated[
        str | None,
        typer.Option(help="Units of a CSV that does not say: H (channel heights) or m (metres)."),
    ] = None,
    overwrite: Overwrite = False,
    allow_version_mismatch: AllowVersionMismatch = False,
) -> None:
    """Predict the steady flow around your body with a trained surrogate ensemble.

    Writes the ensemble mean (u, v, p, speed), its spread (std over members), the mask and
    the SDF to OUT/prediction.nc (xarray), OUT/prediction.vti (ParaView) and a figure
    OUT/prediction.png. Fields are dimensionless: u / U, v / U, (p - p_outlet) / (rho U^2).
    """
    import torch

    from flowlearn.data.flow_fields import FIELD_NAMES, FIELDS
    from flowlearn.physics.geometry import ShapeError, body_on_grid
    from flowlearn.physics.lbm.output import write_vti
    from flowlearn.safety import OutputError, check_folder, write_replacing
    from flowlearn.training.surrogate import ReynoldsRangeWarning

    if not (math.isfinite(re) and re > 0):
        raise _fail(f"Reynolds number {re:g} must be positive")
    try:
        check_folder(out, "--out", create=False)
    except OutputError as exc:
        raise _fail(str(exc)) from None
    files = {s: out / f"prediction{s}" for s in (".nc", ".vti", ".png")}
    if out.is_dir():  # what a new folder cannot hold yet
        _check_outputs([(p, PREDICTION, (s,)) for s, p in files.items()], overwrite)
    surrogate, paths = _load_surrogate(run_dir, allow_version_mismatch=allow_version_mismatch)
    nx, ny = surrogate.grid
    try:
        body, sdf, mask = body_on_grid(shape, (nx, ny), units)
    except ShapeError as exc:
        raise _fail(str(exc)) from None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ReynoldsRangeWarning)
        pred = surrogate.predict(sdf, mask, re)
    for w in caught:
        if issubclass(w.category, ReynoldsRangeWarning):
            _warn(str(w.message))
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore", ReynoldsRangeWarning)
        start = time.perf_counter()
        surrogate.predict(sdf, mask, re)
        sur_seconds = time.perf_counter() - start
    fields, spread = pred.fields[0], pred.spread[0]
    fields = np.where(mask, 0.0, fields).astype(np.float32)
    lo, hi = surrogate.re_range
    attrs: dict[str, Any] = {
        MARK: PREDICTION,
        "title": "flowlearn surrogate prediction",
        "re": float(re),
        "run_dir": str(run_dir),
        "members": len(paths),
        "checkpoints": ", ".join(str(p) for p in paths),
        "grid": [int(nx), int(ny)],
        "re_range": [lo, hi],
        "shape_file": str(shape),
        "ref_length": float(np.max(np.asarray(body.bounds[1]) - np.asarray(body.bounds[0]))),
        "surrogate_seconds": sur_seconds,
    }
    ds = _prediction_dataset(fields, spread.astype(np.float32), sdf, mask, attrs)
    rows = [
        [
            ("u / U", fields[0], "seq"),
            ("v / U", fields[1], "div"),
            ("p / rho U^2", fields[2], "div"),
        ],
        [
            ("spread u", spread[0], "spread"),
            ("spread v", spread[1], "spread"),
            ("spread p", spread[2], "spread"),
        ],
    ]
    title = f"{shape.name}, Re {re:g}: surrogate ({len(paths)} member(s))"
    if compare:
        from flowlearn.evaluation.flow_metrics import channel_mse, relative_velocity_error

        true, lbm_mask, report, setup = _run_lbm(body, (nx, ny), re)
        if not report.steady:
            _warn(
                f"the LBM is not steady after {report.steps} steps (residual "
                f"{report.residual:.2e}): the comparison is against an unsteady snapshot"
            )
        rel = float(relative_velocity_error(fields, true, lbm_mask)[0])
        mse = channel_mse(fields, true, lbm_mask)
        dv = np.hypot(fields[0] - true[0], fields[1] - true[1])
        for k, c in enumerate(FIELDS):
            ds[f"{c.name}_lbm"] = (
                ("y", "x"),
                true[k],
                {"units": c.units, "long_name": f"LBM {c.long_name}"},
            )
        ds["velocity_error"] = (("y", "x"), np.where(lbm_mask, 0.0, dv).astype(np.float32), {
            "long_name": "|velocity_surrogate - velocity_lbm| / U"})  # fmt: skip
        ds.attrs.update(
            relative_velocity_error=rel,
            **{f"mse_{k}": v for k, v in mse.items()},
            lbm_seconds=report.wall_time_s,
            lbm_steps=int(report.steps),
            lbm_steady=int(report.steady),
        )
        rows.append(
            [
                ("|velocity error| / U", dv, "spread"),
                ("p error", fields[2] - true[2], "div"),
                ("LBM u / U", true[0], "seq"),
            ]
        )
        title += f"; relative velocity error {rel:.1%}"
        table = Table(title="surrogate vs LBM (fluid cells)")
        table.add_column("quantity")
        table.add_column("value", justify="right")
        table.add_row("relative velocity error (Guo et al.)", f"{rel:.2%}")
        for k in (*FIELD_NAMES, "total"):
            table.add_row(f"MSE {k}", f"{mse[k]:.3g}")
        table.add_row("surrogate time (warm call)", f"{sur_seconds * 1e3:.1f} ms")
        table.add_row(
            "LBM time to steady state", f"{report.wall_time_s:.2f} s ({report.steps} steps)"
        )
        table.add_row("LBM set-up incl. kernel compilation", f"{setup:.2f} s")
        if sur_seconds > 0:
            table.add_row(
                "speed-up (LBM run / surrogate)", f"{report.wall_time_s / sur_seconds:.3g}x"
            )
        console.print(table)
    try:
        check_folder(out, "--out")
        write_replacing(files[".nc"], ds.to_netcdf)
        write_replacing(files[".vti"], lambda tmp: write_vti(ds, tmp))
    except (OSError, ValueError, TypeError) as exc:
        raise _fail(f"cannot write into {out}: {exc}") from None
    from flowlearn.report.panels import field_panels_png

    field_panels_png(files[".png"], rows, mask, title, output_kind=PREDICTION)
    fluid = ~mask
    _note(
        f"Re {re:g} (trained {lo:g}-{hi:g}), {len(paths)} member(s): max speed "
        f"{float(ds['speed'].values[fluid].max()):.3f} U, mean spread u "
        f"{float(spread[0][fluid].mean()):.3g}"
    )
    _note(f"wrote {out / 'prediction.nc'}, {out / 'prediction.vti'}, {out / 'prediction.png'}")


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
    _check_outputs(
        [(out, ONNX_EXPORT, (".onnx",)), (json_path, ONNX_EXPORT, (".json",))], overwrite
    )
    surrogate, paths = _load_surrogate(
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
def _untrained_surrogate(grid: tuple[int, int], spec, status, model: str = "unet") -> Any:
    """A default-size network of ``model`` (a name of the experiment's ``MODELS``: FlowUNet base
    16, depth 3, or GuoCNN width 16), random weights, normaliser fitted on the first steady LBM
    sample of ``spec``."""
    from flowlearn.data.flow_dataset import OK, compute_sample
    from flowlearn.data.flow_fields import Normaliser, make_inputs
    from flowlearn.training.ensemble import MODELS
    from flowlearn.training.surrogate import FlowSurrogate, Member, build_model

    nx, ny = grid
    if nx % 8 or ny % 8:
        raise _fail(f"grid {nx}x{ny}: the U-Net (depth 3) needs both sizes to be multiples of 8")
    for i in range(10):
        status(f"LBM sample {i} for the normaliser")
        s = compute_sample(spec, i, None)
        if s.status == OK:
            break
    else:
        raise _fail(f"no steady LBM sample in 10 tries on {nx}x{ny}: use a larger --grid", code=1)
    norm = Normaliser.fit(make_inputs(s.sdf, s.mask, s.re), s.fields[None], np.array(spec.re))
    architecture, inputs = MODELS[model]
    net = build_model(architecture, grid, 16, 3, inputs)
    return FlowSurrogate([Member(architecture, net, inputs, norm)], grid)


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
    allow_version_mismatch: AllowVersionMismatch = False,
) -> None:
    """Surrogate vs solver, same machine, same grid, same bodies: seconds per sample and the
    speed-up at batch 1 and 64 (LBM to steady state, kernel compilation excluded)."""
    from flowlearn.data.flow_dataset import DatasetError, FlowDatasetSpec
    from flowlearn.evaluation.surrogate_bench import bench
    from flowlearn.physics.shape_families import TRAIN_FAMILIES

    out_console = err_console if json_out else console
    if architecture not in ("unet", "guo", "guo-shape"):
        raise _fail(f"--architecture {architecture!r}: choose unet or guo, or guo-shape")
    tries = 4 * n_lbm + 2
    with out_console.status("preparing") as status, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NaN checks of a diverging sample
        if run_dir is not None:
            surrogate, _ = _load_surrogate(
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
            surrogate = _untrained_surrogate(sgrid, spec, status.update, architecture)

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
