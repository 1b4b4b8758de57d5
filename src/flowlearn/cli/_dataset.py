"""``flowlearn dataset generate | info | verify | show | families | export``: the LBM datasets
of :mod:`flowlearn.data.flow_dataset` from the command line (``generate`` in
:mod:`._generate`). Heavy imports (xarray, matplotlib, the solver) happen inside the commands.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from flowlearn.cli._args import Name, check_output, dataset_path, parse_grid
from flowlearn.cli._console import command_group, console
from flowlearn.cli._console import fail as _fail
from flowlearn.cli._console import note as _note
from flowlearn.cli._console import paragraphs as _paragraphs
from flowlearn.cli._generate import dataset_generate

dataset_app = command_group(
    "dataset",
    "Make, inspect and export flow datasets: steady LBM flows around random shapes.",
    "Example: flowlearn dataset generate flows --n 200 --grid 64x32 --re 10:40",
)


#: Kinds of output these commands write (the mark of :mod:`flowlearn.safety.outputs`).
SAMPLE_FIGURE = "sample figure"
DATASET_EXPORT = "dataset export"


# ------------------------------------------------------------------------------ dataset
dataset_app.command(
    "generate",
    epilog="Example: flowlearn dataset generate flows --n 2000 --grid 256x128 --re 10:40",
)(_paragraphs(dataset_generate))


def _load_summary(name: str) -> tuple[Path, dict[str, Any]]:
    from flowlearn.data import flow_dataset as fd

    path = dataset_path(name)
    try:
        return path, fd.summary(path)
    except fd.StoreError as exc:
        raise _fail(str(exc)) from None


def _verify(path: Path):
    from flowlearn.data import flow_dataset as fd

    try:
        with console.status("reading every stored sample back") as status:
            return fd.verify(path, progress=lambda what: status.update(f"checking {what}"))
    except fd.StoreError as exc:
        raise _fail(str(exc)) from None


def _integrity_rows(table: Table, check) -> None:
    seal = "CRC32C per chunk" if check.checksummed else "none (written before checksums)"
    table.add_row("checksums", seal)
    if check.intact:
        table.add_row("integrity", f"all {check.checked} stored samples read back intact")
    else:
        shown = list(check.corrupt.items())[:10]
        table.add_row(
            "integrity",
            f"{len(check.corrupt)} damaged: "
            + "; ".join(f"{i}: {why}" for i, why in shown)
            + ("; ..." if len(check.corrupt) > len(shown) else ""),
        )


def _damaged_exit(name: str, check) -> None:
    if not check.intact:
        raise _fail(
            f"{len(check.corrupt)} damaged sample(s) in {check.path}: `flowlearn dataset "
            f"generate {name}` with the settings that made it computes them again",
            code=1,
        )


@dataset_app.command("info", epilog="Example: flowlearn dataset info flows")
@_paragraphs
def dataset_info(name: Name) -> None:
    """Summary of a dataset: grid, samples by status and family, Reynolds range, LBM cost, and
    whether every stored sample reads back intact (exit code 1 if one does not)."""
    path, s = _load_summary(name)
    check = _verify(path)
    table = Table(title=f"dataset {s['path']}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    table.add_row("grid", f"{s['grid'][0]}x{s['grid'][1]} cells")
    table.add_row("samples", str(s["samples"]))
    table.add_row("status", ", ".join(f"{k} {v}" for k, v in s["status"].items()))
    table.add_row("families (ok)", ", ".join(f"{k} {v}" for k, v in s["families"].items()))
    table.add_row("Reynolds", f"{s['re_range'][0]:g} - {s['re_range'][1]:g}")
    lbm = s["lbm_seconds_per_sample"]
    table.add_row("LBM s/sample", "-" if not math.isfinite(lbm) else f"{lbm:.3g}")
    table.add_row("fingerprint", s["fingerprint"][:16])
    _integrity_rows(table, check)
    console.print(table)
    _damaged_exit(name, check)


@dataset_app.command("verify", epilog="Example: flowlearn dataset verify flows --add-checksums")
@_paragraphs
def dataset_verify(
    name: Name,
    add_checksums: Annotated[
        bool,
        typer.Option(
            "--add-checksums",
            help="For a store written before checksums: seal it, once every sample passed.",
        ),
    ] = False,
) -> None:
    """Read every stored sample back and check it: checksums (CRC32C per chunk), chunk files
    present, values finite and physical (zero in the body, the inlet's mean velocity equal to
    U, Re in the dataset's range). Exit code 1 names the damaged samples; `flowlearn dataset
    generate` with the same settings computes them again.
    """
    from flowlearn.data import flow_dataset as fd

    path = dataset_path(name)
    check = _verify(path)
    if add_checksums and not check.checksummed and check.intact:
        try:
            with console.status("adding checksums (rewriting the store)"):
                check = fd.add_checksums(path)
        except fd.StoreError as exc:
            raise _fail(str(exc)) from None
        _note(f"sealed {path}: every chunk now carries a CRC32C")
    table = Table(title=f"dataset {path}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    table.add_row("samples", f"{check.samples} ({check.checked} stored)")
    _integrity_rows(table, check)
    console.print(table)
    _damaged_exit(name, check)
    if not check.checksummed:
        _note(
            "unverified: this store has no checksums, so a flipped bit that stays physical "
            f"cannot be seen; `flowlearn dataset verify {name} --add-checksums` seals it"
        )


def _one_sample(name: str, sample: int | None):
    """The stored sample ``sample`` (its index in the dataset; default: the first stored)."""
    from flowlearn.data import flow_dataset as fd

    path = dataset_path(name)
    try:
        ds = fd.load(path)
    except fd.StoreError as exc:
        raise _fail(str(exc)) from None
    stored = [int(i) for i in ds["sample"].values]
    if not stored:
        raise _fail(f"{path} holds no stored sample yet: run `flowlearn dataset generate`")
    if sample is None:
        sample = stored[0]
    if sample not in stored:
        codes = fd.status(path)
        if not 0 <= sample < len(codes):
            raise _fail(f"sample {sample} out of range: {path} has samples 0..{len(codes) - 1}")
        first = ", ".join(map(str, stored[:10])) + (", ..." if len(stored) > 10 else "")
        raise _fail(
            f"sample {sample} is not stored (status {fd.STATUS_NAMES[int(codes[sample])]}); "
            f"stored samples: {first}"
        )
    try:
        return ds.sel(sample=sample).load(), sample
    except (ValueError, OSError) as exc:
        raise _fail(
            f"sample {sample} of {path} is damaged ({exc}): `flowlearn dataset generate` with "
            "the settings that made it computes it again"
        ) from None


@dataset_app.command("show", epilog="Example: flowlearn dataset show flows --sample 3 --out s3.png")
@_paragraphs
def dataset_show(
    name: Name,
    sample: Annotated[
        int | None, typer.Option(help="Sample index (default: the first stored one).", min=0)
    ] = None,
    out: Annotated[Path | None, typer.Option(help="PNG to write (default sample-K.png).")] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an --out file flowlearn did not draw.")
    ] = False,
) -> None:
    """Draw one sample: its SDF and the u, v, p fields (PNG)."""
    if out is not None:
        check_output(out, SAMPLE_FIGURE, (".png",), overwrite)
    one, k = _one_sample(name, sample)
    out = out or check_output(Path(f"sample-{k}.png"), SAMPLE_FIGURE, (".png",), overwrite)
    mask = one["mask"].values.astype(bool)
    title = (
        f"sample {k}: {one['family_name'].item()}, Re {float(one['re']):.1f}, "
        f"Cd {float(one['cd']):.3f}, Cl {float(one['cl']):.3f}"
    )
    from flowlearn.report.panels import field_panels_png

    path = field_panels_png(
        out,
        [
            [("SDF (cells)", one["sdf"].values, "sdf"), ("u / U", one["u"].values, "seq")],
            [("v / U", one["v"].values, "div"), ("p / rho U^2", one["p"].values, "div")],
        ],
        mask,
        title,
        output_kind=SAMPLE_FIGURE,
    )
    _note(f"wrote {path}")


@dataset_app.command("families", epilog="Example: flowlearn dataset families --grid 128x64 --n 200")
@_paragraphs
def dataset_families(
    grid: Annotated[str, typer.Option(help="Cells NXxNY (x streamwise).")] = "128x64",
    n: Annotated[int, typer.Option(help="Bodies drawn per family.", min=1, max=100_000)] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the draws, as in a dataset.", min=0)] = 0,
) -> None:
    """How large the bodies of every shape family are on a grid: height (cells across the
    channel) and length over height, 5th / 50th / 95th percentiles, as the solver sees them.
    Compare the families you train on with the bodies you will predict: a surrogate that never
    saw a body as thin or as small as yours extrapolates.
    """
    from flowlearn.physics.shape_families import (
        EXTRA_TRAIN_FAMILIES,
        FAMILIES,
        HELDOUT_FAMILIES,
        body_extents,
    )

    nx, ny = parse_grid(grid)
    table = Table(title=f"bodies on a {nx}x{ny} grid ({n} per family, seed {seed})")
    for col in ("family", "group", "height, cells", "length / height"):
        table.add_column(col, justify="left" if col in ("family", "group") else "right")
    with console.status("drawing bodies") as status:
        for family in FAMILIES:
            status.update(f"drawing {family}")
            try:
                ext = body_extents(family, (nx, ny), n, seed)
            except ValueError as exc:
                raise _fail(str(exc)) from None
            group = (
                "held out"
                if family in HELDOUT_FAMILIES
                else "training regime"
                if family in EXTRA_TRAIN_FAMILIES
                else "training primitive"
            )
            h = np.percentile(ext.height, (5, 50, 95))
            a = np.percentile(ext.aspect, (5, 50, 95))
            table.add_row(
                family,
                group,
                " / ".join(f"{v:.0f}" for v in h),
                " / ".join(f"{v:.1f}" for v in a),
            )
    console.print(table)


@dataset_app.command(
    "export", epilog="Example: flowlearn dataset export flows --netcdf flows.nc --vtk flows-vtk/"
)
@_paragraphs
def dataset_export(
    name: Name,
    netcdf: Annotated[
        Path | None, typer.Option(help="Write the stored samples to this .nc.")
    ] = None,
    vtk: Annotated[
        Path | None, typer.Option(help="Write one .vti per sample into this folder (ParaView).")
    ] = None,
    sample: Annotated[
        int | None, typer.Option(help="Export only this sample (default: all stored).", min=0)
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Replace existing files flowlearn did not export."),
    ] = False,
) -> None:
    """Export the stored samples to netCDF and / or VTK image files."""
    from flowlearn.data import flow_dataset as fd
    from flowlearn.physics.lbm.output import write_vti
    from flowlearn.safety import MARK, OutputError, check_folder, write_replacing

    if netcdf is None and vtk is None:
        raise _fail("give --netcdf FILE.nc and/or --vtk FOLDER")
    if netcdf is not None:
        check_output(netcdf, DATASET_EXPORT, (".nc",), overwrite)
    if vtk is not None:
        try:
            check_folder(vtk, "--vtk", create=False)
        except OutputError as exc:
            raise _fail(str(exc)) from None
    if sample is not None:
        one, _ = _one_sample(name, sample)
        ds = one.expand_dims("sample")
    else:
        try:
            ds = fd.read(dataset_path(name))
        except fd.StoreError as exc:
            raise _fail(str(exc)) from None
        if ds.sizes["sample"] == 0:
            raise _fail(f"{dataset_path(name)} holds no stored sample yet")
    ds = ds.assign_attrs({MARK: DATASET_EXPORT})
    if netcdf is not None:
        try:
            write_replacing(netcdf, fd.netcdf_ready(ds.load()).to_netcdf)
        except (OSError, ValueError, TypeError) as exc:
            raise _fail(f"cannot write {netcdf}: {exc}") from None
        _note(f"wrote {netcdf} ({ds.sizes['sample']} samples)")
    if vtk is not None:
        check_folder(vtk, "--vtk")
        indices = [int(i) for i in ds["sample"].values]
        for k in indices:
            check_output(vtk / f"sample-{k:05d}.vti", DATASET_EXPORT, (".vti",), overwrite)
        with Progress(
            TextColumn("[bold]vti"), BarColumn(), MofNCompleteColumn(), console=console
        ) as bar:
            task = bar.add_task("vti", total=len(indices))
            for k in indices:
                one = ds.sel(sample=k).load()
                write_replacing(
                    vtk / f"sample-{k:05d}.vti", lambda tmp, one=one: write_vti(one, tmp)
                )
                bar.advance(task)
        _note(f"wrote {len(indices)} .vti files into {vtk}")
