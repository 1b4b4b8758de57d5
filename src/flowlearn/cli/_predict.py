"""``flowlearn predict``: a trained surrogate's flow around the user's body, optionally beside the
solver run by the dataset's recipe. Heavy imports (torch, xarray, the solver) happen inside."""

from __future__ import annotations

import math
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer
from rich.table import Table

from flowlearn.cli._args import check_outputs
from flowlearn.cli._console import console, lbm_progress
from flowlearn.cli._console import fail as _fail
from flowlearn.cli._console import note as _note
from flowlearn.cli._console import paragraphs as _paragraphs
from flowlearn.cli._console import warn as _warn
from flowlearn.cli._surrogate import (
    RUN_DIR_HELP,
    AllowVersionMismatch,
    Overwrite,
    load_surrogate,
)
from flowlearn.safety.outputs import MARK

if TYPE_CHECKING:
    from flowlearn.physics.geometry import Shape

#: The kind of output predict writes (the mark of :mod:`flowlearn.safety.outputs`).
PREDICTION = "prediction"
PREDICT_EPILOG = "Example: flowlearn predict RUN_DIR --shape body.csv --re 30 --compare"


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


def _refine(body: Shape, grid: tuple[int, int], re: float, guess: np.ndarray):
    """The exact mode: the dataset's LBM from ``guess`` to its steady tolerance, with a
    progress bar; a body the solver refuses exits 2, a run that diverges from both starts 1."""
    from flowlearn.data.flow_dataset import FlowDatasetSpec, refine
    from flowlearn.physics.geometry import ShapeError
    from flowlearn.physics.lbm import DivergenceError

    spec = FlowDatasetSpec(grid=grid, n=1, re=(re, re))
    with lbm_progress("LBM from the prediction", spec.max_steps) as update:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                refined = refine(spec, body, re, guess, threads=None, callback=update)
        except (ShapeError, ValueError) as exc:
            raise _fail(f"the solver cannot set up this body: {exc}") from None
        except DivergenceError as exc:
            raise _fail(f"the LBM diverged from the uniform start too: {exc}", code=1) from None
    if refined.fallback:
        _warn(refined.fallback)
    if not refined.report.steady:
        _warn(
            f"the LBM is not steady after {refined.report.steps} steps (residual "
            f"{refined.report.residual:.2e}): the written fields are an unsteady snapshot"
        )
    return refined


def _refine_table(prediction: np.ndarray, refined: Any, sur_seconds: float) -> None:
    from flowlearn.evaluation.flow_metrics import relative_velocity_error

    rel = float(relative_velocity_error(prediction, refined.fields, refined.mask)[0])
    table = Table(title="exact mode: the LBM from the surrogate's prediction")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("steps to the dataset's tolerance", f"{refined.report.steps}")
    table.add_row("LBM time (set-up and run)", f"{refined.seconds:.2f} s")
    table.add_row("surrogate time (warm call)", f"{sur_seconds * 1e3:.1f} ms")
    table.add_row("prediction's error against the converged field", f"{rel:.2%}")
    console.print(table)


def _ood_warning(
    run_dir: Path, sdf: np.ndarray, mask: np.ndarray, re: float, pred: Any, members: int
) -> dict[str, Any]:
    """Warn when the body is far from the training distribution (the run's ``ood.json``) and
    say how reliable that warning was on the run's held-out bodies (its ``metrics.json``);
    returns the attributes stored with the prediction."""
    import json

    from flowlearn.evaluation.ood import OOD_FILE, Bodies, OODDetector

    path = Path(run_dir) / OOD_FILE
    if not path.is_file():
        _note(
            f"{run_dir} has no {OOD_FILE} (a run of an earlier flowlearn): no out-of-distribution "
            "check; run flowlearn run flow-surrogate again to get one"
        )
        return {}
    try:
        detector = OODDetector.from_json(path)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    spread = pred.spread if members > 1 and detector.uses_spread else None
    if detector.uses_spread and spread is None:
        raise _fail(f"{path} reads the spread of an ensemble; this surrogate has one member")
    bodies = Bodies(mask[None], sdf[None], np.array([re], dtype=float))
    score = float(detector.score(bodies, pred.fields, spread)[0])
    measured = ""
    try:
        rel = json.loads((Path(run_dir) / "metrics.json").read_text()).get("ood") or {}
    except (OSError, ValueError):
        rel = {}
    if rel.get("auroc") is not None:
        measured = (
            f" On the run's {rel['samples']} held-out bodies this warning flagged "
            f"{rel['recall']:.0%} of the errors above {rel['large_error']:.1%} (the "
            f"in-distribution 90th percentile), {rel['precision']:.0%} of its flags were such "
            f"errors; AUROC of the score {rel['auroc']:.2f}."
            if rel.get("recall") is not None and rel.get("precision") is not None
            else f" AUROC of the score on the run's held-out bodies: {rel['auroc']:.2f}."
        )
    if score > 1.0:
        why = detector.unusual(mask)
        _warn(
            f"this body is out of the surrogate's reach (score {score:.2f} > 1: its error, "
            "predicted from the shape, the Reynolds number"
            + ("" if spread is None else " and the ensemble's spread")
            + ", is above that of 95 % of unseen bodies of the training families): expect a "
            "larger error than the run's test error; check it with --compare."
            + (f" Unlike the training bodies: {'; '.join(why)}." if why else "")
            + measured
        )
    else:
        _note(
            f"out-of-distribution score {score:.2f} (<= 1: within the reach of the training "
            "distribution)" + ("" if spread is not None else "; one member: no spread")
        )
    return {"ood_score": score, "ood_flag": int(score > 1.0)}


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
    refine: Annotated[
        bool,
        typer.Option(
            "--refine",
            help="Exact mode: start the LBM from the prediction (velocity and pressure) and run "
            "it to the dataset's steady tolerance; writes the converged fields, the prediction "
            "beside them (u_surrogate, ...). A start that diverges falls back to the uniform "
            "start and says so.",
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

    from flowlearn.data.flow_fields import FIELD_NAMES, FIELDS, prediction_dataset
    from flowlearn.physics.body_files import body_on_grid
    from flowlearn.physics.geometry import ShapeError
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
        check_outputs([(p, PREDICTION, (s,)) for s, p in files.items()], overwrite)
    surrogate, paths = load_surrogate(run_dir, allow_version_mismatch=allow_version_mismatch)
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
    ood = _ood_warning(run_dir, sdf, mask, re, pred, len(paths))
    fields, spread = pred.fields[0], pred.spread[0]
    fields = np.where(mask, 0.0, fields).astype(np.float32)
    refined = _refine(body, (nx, ny), re, fields) if refine else None
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
        **ood,
    }
    if refined is not None:
        surrogate_fields, fields = fields, refined.fields
        attrs.update(
            refined=1,
            refine_steps=int(refined.report.steps + refined.start_steps),
            refine_seconds=refined.seconds,
            refine_steady=int(refined.report.steady),
            refine_fallback=refined.fallback,
        )
        attrs["title"] = "flowlearn surrogate prediction refined by the LBM"
    ds = prediction_dataset(fields, spread.astype(np.float32), sdf, mask, attrs)
    if refined is not None:
        for k, c in enumerate(FIELDS):
            ds[f"{c.name}_surrogate"] = (
                ("y", "x"),
                surrogate_fields[k],
                {"units": c.units, "long_name": f"surrogate {c.long_name} (the LBM's start)"},
            )
        _refine_table(surrogate_fields, refined, sur_seconds)
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
    title = f"{shape.name}, Re {re:g}: surrogate ({len(paths)} member(s))" + (
        ", refined by the LBM" if refined is not None else ""
    )
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
