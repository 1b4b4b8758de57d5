"""``flowlearn simulate cylinder | cavity | sphere | shape``: the Typer app ``simulate_app``,
mounted by the main CLI, runs a lattice Boltzmann case and writes the flow as Zarr / netCDF / VTK.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer

from flowlearn.cli._console import command_group, console, lbm_progress, warn
from flowlearn.cli._console import fail as _fail

simulate_app = command_group(
    "simulate",
    "Run the built-in lattice Boltzmann solver on a ready-made flow and save the fields.",
    "Example: flowlearn simulate cylinder --re 20 --out cylinder.nc",
)
Out = Annotated[
    Path | None,
    typer.Option(help="write the flow here: .zarr, .nc (netCDF), .vtk or .vti (ParaView)"),
]
Steps = Annotated[int, typer.Option(min=1, help="maximum number of time steps")]
Tol = Annotated[
    float, typer.Option(help="stop when the per-step relative velocity change drops below this")
]
Dtype = Annotated[str, typer.Option(help="float64 (accurate) or float32 (twice as fast)")]
UntilSteady = Annotated[
    bool,
    typer.Option(
        "--until-steady/--all-steps",
        help="stop once the residual drops below --tol (default), or run all --steps",
    ),
]
Vtk = Annotated[
    Path | None, typer.Option(help="also write the flow for ParaView: .vti (image data) or .vtk")
]
Grid = Annotated[
    str | None,
    typer.Option(help="lattice NXxNY (replaces --cells), e.g. 440x82 for 20 cells per diameter"),
]
Collision = Annotated[str, typer.Option(help="trt (default, magic 3/16) or bgk")]
Overwrite = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="replace an existing --out / --vtk file that is not a flowlearn flow field (a "
        "flowlearn flow field is replaced anyway; a folder flowlearn did not write, never)",
    ),
]
#: What lowers the memory of a simulate run, in the words of its options.
MEMORY_HINT = "use fewer cells (--cells or --grid), or --dtype float32"


def _check_outputs(out: Path | None, vtk: Path | None, overwrite: bool) -> None:
    """Refuse, before any computing, an output that could not or must not be written."""
    from flowlearn.physics.lbm import output
    from flowlearn.safety import OutputError

    try:
        if out is not None:
            output.check(out, overwrite=overwrite, what="--out")
        if vtk is not None:
            output.check(vtk, overwrite=overwrite, what="--vtk", vtk_only=True)
    except OutputError as exc:
        raise _fail(str(exc)) from None


def _run_case(
    case,
    steps: int,
    tol: float,
    out: Path | None,
    vtk: Path | None = None,
    until_steady: bool = True,
    overwrite: bool = False,
) -> None:
    """Run with a progress bar showing the residual; print coefficients; save the Dataset."""
    from flowlearn.physics.lbm import DivergenceError

    with lbm_progress(case.name, steps) as update:
        try:
            report = case.solver.run(
                steps, check_every=500, steady_tol=tol if until_steady else None, callback=update
            )
        except DivergenceError as exc:
            raise _fail(str(exc)) from None
    if report.steady:
        state = "steady"
    elif until_steady:
        state = "not steady yet (raise --steps)"
    else:
        state = f"ran all steps (residual {'below' if report.residual < tol else 'above'} --tol)"
    console.print(
        f"{report.steps} steps in {report.wall_time_s:.1f} s, "
        f"residual {report.residual:.2e}: {state}"
    )
    if "obstacle" in case.solver.link_names:
        coeff = case.coefficients()
        console.print(f"Cd = {coeff['cd']:.4f}   Cl = {coeff['cl']:.5f}")
    targets = [p for p in (out, vtk) if p is not None]
    if targets:
        from flowlearn.physics.lbm import output

        ds = case.dataset()
        for target in targets:
            try:
                path = output.write(ds, target, overwrite=overwrite)
            except (OSError, ValueError) as exc:
                raise _fail(f"cannot write {target}: {exc}") from None
            console.print(f"wrote {path}")


def _parse_grid(text: str) -> tuple[int, int]:
    """``--grid NXxNY`` of a simulate command: :func:`._dataset.parse_grid`, 8 cells or more."""
    from flowlearn.cli._args import parse_grid

    nx, ny = parse_grid(text)
    if nx < 8 or ny < 8:
        raise _fail(f"--grid {text}: each side needs at least 8 cells")
    return nx, ny


def _cells_from_grid(text: str, ref: float, length: float, height: float) -> float:
    """Cells across the body size ``ref`` for a channel ``length`` x ``height`` on grid
    ``text``; the grid must have the channel's aspect ratio."""
    nx, ny = _parse_grid(text)
    expected = round(length / height * ny)
    if abs(nx - expected) > 1:
        raise _fail(
            f"--grid {nx}x{ny}: the {length:g} x {height:g} channel with {ny} cells across has "
            f"{expected} cells along it (--grid {expected}x{ny})"
        )
    return ny * ref / height


def _build(fn, *args, **kwargs):
    from flowlearn.physics.geometry import ShapeError
    from flowlearn.physics.lbm import StabilityWarning
    from flowlearn.physics.lbm.collision import collision_from_name
    from flowlearn.safety import MemoryLimitError

    if "collision" in kwargs:
        try:
            kwargs["collision"] = collision_from_name(kwargs["collision"])
        except ValueError as exc:
            raise _fail(str(exc)) from None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StabilityWarning)
        try:
            case = fn(*args, **kwargs)
        except MemoryLimitError as exc:
            raise _fail(exc.message(MEMORY_HINT)) from None
        except (ShapeError, ValueError) as exc:
            raise _fail(str(exc)) from None
    for w in caught:
        warn(str(w.message))
    return case


@simulate_app.command(
    "cylinder", epilog="Example: flowlearn simulate cylinder --re 20 --cells 20 --out cyl.nc"
)
def cylinder(
    re: Annotated[
        float, typer.Option(help="Reynolds number (mean inflow, diameter): 20 or 100")
    ] = 20.0,
    cells: Annotated[int, typer.Option(help="cells per diameter; 20 gives Cd within ~1 %")] = 20,
    u_lattice: Annotated[
        float, typer.Option(help="mean inflow in cells/step (Ma = u sqrt 3)")
    ] = 0.05,
    grid: Grid = None,
    steps: Steps = 60_000,
    until_steady: UntilSteady = True,
    tol: Tol = 2e-8,
    dtype: Dtype = "float64",
    collision: Collision = "trt",
    out: Out = None,
    vtk: Vtk = None,
    overwrite: Overwrite = False,
) -> None:
    """Schäfer–Turek cylinder in a channel (2.2 x 0.41, D = 0.1, parabolic inflow)."""
    from flowlearn.physics.lbm import cases

    _check_outputs(out, vtk, overwrite)
    if grid is not None:
        cells = _cells_from_grid(grid, cases.ST_DIAMETER, cases.ST_LENGTH, cases.ST_HEIGHT)
    case = _build(
        cases.schafer_turek,
        re,
        cells_per_diameter=cells,
        u_lattice=u_lattice,
        dtype=dtype,
        collision=collision,
    )
    _run_case(case, steps, tol, out, vtk, until_steady, overwrite)


@simulate_app.command(
    "cavity", epilog="Example: flowlearn simulate cavity --re 100 --cells 64 --out cavity.vtk"
)
def cavity(
    re: Annotated[float, typer.Option(help="Reynolds number (lid speed, side)")] = 100.0,
    cells: Annotated[int, typer.Option(help="cells per side")] = 64,
    lid: Annotated[float, typer.Option(help="lid speed, cells/step")] = 0.05,
    grid: Grid = None,
    steps: Steps = 100_000,
    until_steady: UntilSteady = True,
    tol: Tol = 1e-7,
    dtype: Dtype = "float64",
    collision: Collision = "trt",
    out: Out = None,
    vtk: Vtk = None,
    overwrite: Overwrite = False,
) -> None:
    """Lid-driven square cavity (lid on top moving in +x)."""
    from flowlearn.physics.lbm import cases

    _check_outputs(out, vtk, overwrite)
    if grid is not None:
        nx, ny = _parse_grid(grid)
        if nx != ny:
            raise _fail(f"--grid {grid}: the cavity is square, e.g. --grid {ny}x{ny}")
        cells = nx
    case = _build(cases.cavity, re, n=cells, u_lid=lid, dtype=dtype, collision=collision)
    _run_case(case, steps, tol, out, vtk, until_steady, overwrite)


@simulate_app.command(
    "sphere", epilog="Example: flowlearn simulate sphere --re 20 --cells 8 --vtk sphere.vti"
)
def sphere(
    re: Annotated[float, typer.Option(help="Reynolds number (inflow speed, diameter)")] = 20.0,
    cells: Annotated[int, typer.Option(help="cells per diameter (box 12 x 6 x 6 diameters)")] = 8,
    u_lattice: Annotated[float, typer.Option(help="inflow in cells/step")] = 0.05,
    steps: Steps = 20_000,
    until_steady: UntilSteady = True,
    tol: Tol = 1e-6,
    dtype: Dtype = "float32",
    collision: Collision = "trt",
    out: Out = None,
    vtk: Vtk = None,
    overwrite: Overwrite = False,
) -> None:
    """Flow past a sphere in 3-D (D3Q19), uniform inflow, periodic sides 6 diameters apart;
    Cd on the frontal area (2.85 at Re 20 against Schiller–Naumann's 2.61)."""
    from flowlearn.physics.lbm import cases

    _check_outputs(out, vtk, overwrite)
    case = _build(
        cases.sphere_channel,
        re,
        diameter_cells=cells,
        u_lattice=u_lattice,
        dtype=dtype,
        collision=collision,
    )
    _run_case(case, steps, tol, out, vtk, until_steady, overwrite)


@simulate_app.command(
    "shape",
    epilog="Example: flowlearn simulate shape --naca 2412 --angle 8 --re 50 --out foil.nc",
)
def shape(
    path: Annotated[
        Path | None,
        typer.Argument(help="a .csv polygon or a .png mask (same as --csv / --png)"),
    ] = None,
    csv: Annotated[
        Path | None,
        typer.Option(
            help="closed polygon, rows x,y; a first line '# units: m' (metres in this 0.41 m "
            "high channel) or '# units: H' (channel heights), or --units"
        ),
    ] = None,
    units: Annotated[
        str | None,
        typer.Option(help="units of the CSV when it does not say: m (metres) or H (heights)"),
    ] = None,
    png: Annotated[Path | None, typer.Option(help="mask image: dark pixels are solid")] = None,
    naca: Annotated[str | None, typer.Option(help="NACA 4-digit airfoil, e.g. 0012")] = None,
    angle: Annotated[float, typer.Option(help="angle of attack of --naca, degrees")] = 0.0,
    chord: Annotated[float, typer.Option(help="chord of --naca, metres")] = 0.2,
    re: Annotated[float, typer.Option(help="Reynolds number on the body size")] = 20.0,
    cells: Annotated[int, typer.Option(help="cells across the body size")] = 20,
    u_lattice: Annotated[float, typer.Option(help="mean inflow, cells/step")] = 0.05,
    grid: Grid = None,
    steps: Steps = 60_000,
    until_steady: UntilSteady = True,
    tol: Tol = 2e-8,
    dtype: Dtype = "float64",
    out: Out = None,
    vtk: Vtk = None,
    overwrite: Overwrite = False,
) -> None:
    """Flow past a body from a CSV polygon, a PNG mask or a NACA code, in the 2.2 x 0.41 channel."""
    from flowlearn.physics import body_files, geometry
    from flowlearn.physics.lbm import cases

    _check_outputs(out, vtk, overwrite)
    if path is not None:
        suffix = path.suffix.lower()
        if suffix == ".csv":
            csv = csv or path
        elif suffix == ".png":
            png = png or path
        else:
            raise _fail(f"shape file {path} has suffix {suffix!r}: expected .csv or .png")
        if csv is not path and png is not path:
            raise _fail(f"give the shape once: {path} and an option were both given")
    given = [x for x in (csv, png, naca) if x is not None]
    if len(given) != 1:
        raise _fail(f"give exactly one of --csv, --png, --naca (got {len(given)})")
    try:
        if png is not None:
            if grid is not None:
                raise _fail("--grid does not apply to a PNG mask: its pixels are the cells")
            mask = body_files.read_mask_png(png)
            case = _build(cases.shape_from_mask, mask, re=re, u_lattice=u_lattice, dtype=dtype)
        else:
            if csv is not None:  # channel heights -> metres in this channel
                body = geometry.scaled(body_files.read_body_csv(csv, units), cases.ST_HEIGHT)
            else:
                body = geometry.naca4(naca, chord=chord, angle_deg=angle, leading_edge=(0.2, 0.2))
            lo, hi = body.bounds
            size = float(hi[0] - lo[0]) if naca is not None else float(max(hi - lo))
            if grid is not None:
                cells = _cells_from_grid(grid, size, cases.ST_LENGTH, cases.ST_HEIGHT)
            case = _build(
                cases.channel_with_shape,
                body,
                re=re,
                ref_length=size,
                cells_per_length=cells,
                u_lattice=u_lattice,
                dtype=dtype,
            )
    except geometry.ShapeError as exc:
        raise _fail(str(exc)) from None
    _run_case(case, steps, tol, out, vtk, until_steady, overwrite)
