"""``flowlearn dataset generate``: runs the LBM around random bodies into a Zarr dataset with a
progress bar, resumable after an interruption; registered on ``dataset_app`` by :mod:`._dataset`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from flowlearn.cli._args import Name, dataset_path, parse_families, parse_grid, parse_re_range
from flowlearn.cli._console import console, err_console
from flowlearn.cli._console import fail as _fail
from flowlearn.cli._console import note as _note


def dataset_generate(
    name: Name,
    n: Annotated[int, typer.Option(help="Number of samples.", min=1)] = 2000,
    grid: Annotated[str, typer.Option(help="Cells NXxNY (x streamwise).")] = "256x128",
    re: Annotated[
        str, typer.Option("--re", help="Reynolds range LO:HI, drawn uniformly per sample.")
    ] = "10:40",
    families: Annotated[
        str,
        typer.Option(
            help="Comma-separated shape families, cycled; 'train' = circle,ellipse,rectangle,"
            "triangle,polygon,blob, 'heldout' = naca,star,pair."
        ),
    ] = "train",
    seed: Annotated[
        int, typer.Option(help="Seed: sample i draws from the random stream (seed, i).", min=0)
    ] = 0,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Local worker processes (default: all cores; 1 runs here, no Dask).", min=1
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address (tcp://host:8786) to run on instead."),
    ] = None,
) -> None:
    """Run the LBM to steady state around N random bodies and store the flows as Zarr.

    Resumable: run the same command again after an interruption and only the missing samples
    are computed. Unsteady, diverged or invalid samples are counted, never stored as data.
    """
    from flowlearn.data import flow_dataset as fd
    from flowlearn.safety import MemoryLimitError

    spec_grid = parse_grid(grid)
    re_range = parse_re_range(re)
    fams = parse_families(families)
    try:
        spec = fd.FlowDatasetSpec(grid=spec_grid, n=n, re=re_range, families=fams, seed=seed)
    except fd.DatasetError as exc:
        raise _fail(str(exc)) from None
    path = dataset_path(name)
    if workers is None:
        workers = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
    where = f"Dask scheduler {scheduler}" if scheduler else f"{workers} local worker(s)"
    _note(
        f"dataset {path}: {n} samples on {spec_grid[0]}x{spec_grid[1]} cells, Re "
        f"{re_range[0]:g}-{re_range[1]:g}, families {', '.join(fams)}; {where}"
    )
    tally = {"ok": 0, "rejected": 0}
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[green]{task.fields[ok]} ok[/] [yellow]{task.fields[rejected]} rejected[/]"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("samples", total=None, ok=0, rejected=0)

        def progress(sample, done: int, total: int) -> None:
            tally["ok" if sample.status == fd.OK else "rejected"] += 1
            bar.update(task, completed=done, total=total, **tally)

        try:
            with warnings.catch_warnings():
                # the solver's NaN checks on a diverging sample; it is counted as diverged
                warnings.simplefilter("ignore", RuntimeWarning)
                report = fd.generate(
                    spec, path, workers=workers, scheduler=scheduler, progress=progress
                )
        except KeyboardInterrupt:
            bar.stop()
            try:
                stored = f"{int((fd.status(path) != fd.PENDING).sum())} samples stored"
            except fd.StoreError:
                stored = "the stored samples are kept"
            err_console.print(
                f"interrupted: {stored}; run the same command to resume", highlight=False
            )
            raise typer.Exit(130) from None
        except MemoryLimitError as exc:
            raise _fail(exc.message("lower --workers, or use a coarser --grid")) from None
        except fd.StoreError as exc:
            raise _fail(str(exc)) from None
        except OSError as exc:
            raise _fail(f"cannot run the generation ({where}): {exc}") from None
    if report.repaired:
        _note(
            f"found {len(report.repaired)} damaged sample(s) and computed them again: "
            + "; ".join(f"{i} ({why})" for i, why in list(report.repaired.items())[:5])
        )
    if report.computed == 0:
        _note(f"nothing to compute: all {spec.n} samples were already done and are intact")
    else:
        _note(
            f"computed {report.computed} samples in {report.wall_time_s:.1f} s "
            f"({report.skipped} were already done)"
        )
    table = Table(title="samples by status")
    table.add_column("status")
    table.add_column("count", justify="right")
    for status_name, count in report.counts.items():
        table.add_row(status_name, str(count))
    console.print(table)
    _note(f"path: {Path(report.path).resolve()}")
    if report.reasons:
        shown = 5
        _note(
            f"rejected samples (first {min(shown, len(report.reasons))} of {len(report.reasons)}):"
        )
        for reason in report.reasons[:shown]:
            _note(f"  {reason}")
