"""``flowlearn rom fit SNAPSHOTS``: POD and DMD of the user's snapshots (netCDF or Zarr), written
as one netCDF file of modes, spectra and reconstructions, a figure and, on request, the modes
for ParaView."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flowlearn.cli._console import command_group, console
from flowlearn.cli._console import fail as _fail
from flowlearn.cli._console import note as _note

rom_app = command_group(
    "rom",
    "Reduced-order models of flow snapshots: POD and DMD.",
    "Example: flowlearn rom fit wake.nc --var u --var v --energy 0.99 --out rom",
)

ROM_EPILOG = "Example: flowlearn rom fit wake.nc --var u --var v --energy 0.99 --out rom"


@rom_app.callback()
def _rom_group() -> None:
    """Reduced-order models of flow snapshots: POD and DMD."""


@rom_app.command("fit", epilog=ROM_EPILOG)
def rom_fit(
    snapshots: Annotated[
        Path,
        typer.Argument(
            help="netCDF (.nc) or Zarr (.zarr) file: variables (time, y, x) on one grid, a "
            "time coordinate (equally spaced for DMD; a 'time_value' variable wins), an "
            "optional mask(y, x), non-zero in solid cells."
        ),
    ],
    var: Annotated[
        list[str] | None,
        typer.Option(help="variable to decompose (repeat; default: every float (time, ...) one)"),
    ] = None,
    method: Annotated[str, typer.Option(help="pod, dmd or both")] = "both",
    energy: Annotated[
        float, typer.Option(help="POD keeps the fewest modes whose energy reaches this")
    ] = 0.99,
    modes: Annotated[
        int | None, typer.Option(help="keep this many POD modes instead (DMD: one more)", min=1)
    ] = None,
    out: Annotated[Path, typer.Option(help="folder for rom.nc, spectrum.png and modes/")] = Path(
        "rom"
    ),
    vtk: Annotated[bool, typer.Option("--vtk", help="also write every mode as .vti")] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="replace rom.nc / spectrum.png of another kind")
    ] = False,
) -> None:
    """POD (thin SVD, modes kept by an energy threshold) and DMD (PyDMD) of your snapshots:
    OUT/rom.nc holds the modes, the POD energy spectrum and error curve, the DMD frequencies,
    growth rates and amplitudes, and the snapshots rebuilt from the kept modes; OUT/spectrum.png
    draws both spectra; --vtk writes each mode to OUT/modes/*.vti for ParaView."""
    from flowlearn.baselines.rom import METHODS, ROM_KIND, decompose, write_modes_vtk
    from flowlearn.data.snapshots import SnapshotError, read_snapshots
    from flowlearn.safety import OutputError, check_folder, check_target, write_replacing

    if method not in METHODS:
        raise _fail(f"--method {method!r}: choose {', '.join(METHODS)}")
    if not 0.0 < energy <= 1.0:
        raise _fail(f"--energy {energy:g} must lie in (0, 1]")
    files = {"nc": out / "rom.nc", "png": out / "spectrum.png"}
    try:
        check_folder(out, "--out")
        for key, path in files.items():
            check_target(path, what=f"--out {key}", kind=ROM_KIND, suffixes=(f".{key}",),
                         overwrite=overwrite)  # fmt: skip
    except OutputError as exc:
        raise _fail(str(exc)) from None
    try:
        snaps = read_snapshots(snapshots, var or None)
        with console.status("decomposing"):
            ds = decompose(snaps, method=method, n_modes=modes, energy=energy)
    except (SnapshotError, ValueError) as exc:
        raise _fail(str(exc)) from None
    from flowlearn.report.rom import spectrum_png
    from flowlearn.safety import MARK

    ds.attrs[MARK] = ROM_KIND
    ds.attrs["source_file"] = str(snapshots)
    write_replacing(files["nc"], ds.to_netcdf)
    spectrum_png(ds, files["png"], ROM_KIND)
    table = Table(title=f"{snaps.values.shape[0]} snapshots of {', '.join(snaps.names)}")
    table.add_column("")
    table.add_column("value", justify="right")
    a = ds.attrs
    if "pod_energy" in ds:
        table.add_row("POD modes kept", f"{a['pod_modes']} ({a['pod_energy_kept']:.2%} energy)")
        table.add_row("POD reconstruction error", f"{a['pod_reconstruction_error']:.2%}")
    if "dmd_frequency" in ds:
        table.add_row("DMD modes", str(ds.sizes["dmd_mode"]))
        if "dmd_dominant_frequency" in a:
            table.add_row("DMD dominant frequency", f"{a['dmd_dominant_frequency']:.5g}")
        table.add_row("DMD reconstruction error", f"{a['dmd_reconstruction_error']:.2%}")
    console.print(table)
    written = [files["nc"], files["png"]]
    if vtk:
        try:
            written += write_modes_vtk(ds, out / "modes", snaps.names)
        except OutputError as exc:
            raise _fail(str(exc)) from None
    _note(f"wrote {', '.join(str(p) for p in written[:3])}" + (
        f" and {len(written) - 3} more" if len(written) > 3 else ""))  # fmt: skip
