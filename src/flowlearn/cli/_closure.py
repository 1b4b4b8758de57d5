"""``flowlearn closure predict RUN FLOW --out DIR``: a TBNN trained by ``flowlearn run tbnn``
applied to a named reference flow or to a user's own (flowlearn's RANS table: CSV or netCDF),
written as OpenFOAM fields a RANS solver reads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flowlearn.cli._console import command_group, console, warn
from flowlearn.cli._console import fail as _fail

closure_app = command_group(
    "closure",
    "Turbulence closures trained by `flowlearn run tbnn`: predict the anisotropy of a flow.",
    "Example: flowlearn closure predict runs/tbnn/20261201-120000 my_flow.csv --out case/0",
)

PREDICT_EPILOG = (
    "Example: flowlearn closure predict runs/tbnn/20261201-120000 hill_Re10595 --out hill/0; "
    "a file in flowlearn's RANS table schema (CSV, CSV.gz or netCDF: see `flowlearn.data.rans`) "
    "works the same: flowlearn closure predict RUN my_flow.csv --out case/0"
)


@closure_app.callback()
def _closure_group() -> None:
    """Turbulence closures trained by `flowlearn run tbnn`: predict the anisotropy of a flow."""


def _read_flow(flow: str, drop_invalid: bool):
    from flowlearn.data import rans

    try:
        if flow in rans.FLOWS:
            return rans.load_flow(flow, drop_invalid=drop_invalid)
        path = Path(flow)
        if not path.exists():
            raise FileNotFoundError(
                f"{flow}: neither a file nor a named flow (named: {', '.join(rans.FLOWS)})"
            )
        return rans.read_table(path, drop_invalid=drop_invalid)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        text = str(exc).strip("'\"")
        if "drop_invalid=True" in text:
            text = text.replace("pass drop_invalid=True", "pass --drop-invalid")
        raise _fail(text) from None


@closure_app.command("predict", epilog=PREDICT_EPILOG)
def closure_predict(
    run: Annotated[Path, typer.Argument(help="a `flowlearn run tbnn` run directory")],
    flow: Annotated[str, typer.Argument(help="a named flow or a RANS table (.csv/.csv.gz/.nc)")],
    out: Annotated[Path, typer.Option(help="folder for b_TBNN and R_TBNN (e.g. a case's 0/)")],
    drop_invalid: Annotated[
        bool, typer.Option("--drop-invalid", help="drop cells with k <= 0, eps <= 0 or NaN")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="replace b_TBNN / R_TBNN if they exist")
    ] = False,
) -> None:
    """Predict the Reynolds-stress anisotropy b of every cell of FLOW with the run's TBNN
    ensemble and write ``b_TBNN`` (dimensionless) and ``R_TBNN`` (Reynolds stresses with the
    flow's RANS k) as OpenFOAM volSymmTensorFields into ``--out``, in the table's cell order.
    A labelled flow is scored against its DNS / LES beside the linear eddy viscosity."""
    if out.exists() and not out.is_dir():
        raise _fail(f"--out {out} exists and is not a folder")
    if not out.parent.is_dir():
        raise _fail(f"--out {out}: its parent folder {out.parent} does not exist")
    for name in ("b_TBNN", "R_TBNN"):
        if (out / name).exists() and not overwrite:
            raise _fail(f"{out / name} exists: pass --overwrite to replace it")
    if not (run / "metrics.json").is_file():
        raise _fail(
            f"{run} is not a finished run (no metrics.json): give a run directory of "
            "`flowlearn run tbnn`"
        )
    from flowlearn.experiments.cfd.tbnn import TrainedTBNN

    try:
        trained = TrainedTBNN(run)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        raise _fail(str(exc)) from None
    f = _read_flow(flow, drop_invalid)
    for reason, count in f.dropped.items():
        warn(f"{count} cells dropped: {reason}")
    r = trained.predict(f)
    if r["outside_share"] > 0:
        warn(
            f"{100 * r['outside_share']:.1f} % of the cells have invariants outside the trained "
            "range: there the closure extrapolates"
        )
    out.mkdir(exist_ok=True)
    paths = trained.write(f, r["b"], out, overwrite)
    table = Table(title=f"{f.name}: {f.n:,} cells")
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("cells capped (k/eps |grad U| > cap)", f"{r['capped']:,}")
    table.add_row("not realizable", f"{100 * r['violations']:.2f} %")
    if "rmse" in r:
        table.add_row(f"RMSE(b), TBNN ({r['scored']:,} cells scored)", f"{r['rmse']['all']:.4f}")
        table.add_row("RMSE(b), linear eddy viscosity", f"{r['rmse_levm']['all']:.4f}")
    console.print(table)
    for path in paths:
        console.print(f"wrote {path}")
