"""Flow fields as xarray Datasets, written to Zarr / netCDF, and to VTK for ParaView.

Dataset layout: dims ``y, x`` (2-D) or ``y, x, z`` (3-D); coordinates in physical units
(``x``, ``y``[, ``z``], cell centres) plus lattice indices (``x_lattice`` ...); variables
``u, v[, w]`` (m/s), ``p`` (Pa for rho = 1 kg/m^3, relative to the outlet), ``rho`` (lattice),
``vorticity`` (1/s, 2-D), ``mask`` (1 in solids), ``sdf`` (m, when a body is known); every
solver parameter in ``attrs``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from flowlearn.physics.lbm import observables
from flowlearn.physics.lbm.boundaries import to_public
from flowlearn.physics.lbm.units import LatticeUnits
from flowlearn.safety.outputs import MARK, VTK_TITLE, check_target, write_replacing

DIMS = {2: ("y", "x"), 3: ("y", "x", "z")}
#: Formats :func:`write` knows, by suffix.
SUFFIXES = (".zarr", ".nc", ".nc4", ".netcdf", ".vtk", ".vti")
VTK_SUFFIXES = (".vti", ".vtk")
#: The kind of output ``flowlearn simulate`` writes (see :mod:`flowlearn.safety.outputs`).
FLOW_FIELD = "flow field"


def _clean_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    """netCDF/Zarr accept numbers, strings and lists: bools become ints, None a string."""
    out = {}
    for k, v in attrs.items():
        if isinstance(v, bool):
            out[k] = int(v)
        elif isinstance(v, int | float | str):
            out[k] = v
        elif isinstance(v, np.generic):
            out[k] = v.item()
        elif isinstance(v, list | tuple):
            out[k] = [float(x) for x in v]
        else:
            out[k] = str(v)
    return out


def to_dataset(solver, units: LatticeUnits, *, name: str = "flow", attrs: dict | None = None):
    """Current state of ``solver`` as an ``xarray.Dataset`` in physical units (see module)."""
    import xarray as xr

    rho, u = solver.macroscopic()
    dim = solver.dim
    dims = DIMS[dim]
    dx = units.dx
    vel = units.velocity / units.u_lattice
    inner = tuple(slice(1, -1) for _ in solver.grid)
    mask = to_public(~solver.fluid[inner]).astype(np.int8)
    coords: dict[str, Any] = {}
    sizes = dict(zip(("x", "y", "z"), solver.grid, strict=False))
    for axis in ("x", "y", "z")[:dim]:
        idx = np.arange(sizes[axis])
        coords[axis] = (
            axis,
            (idx + 0.5) * dx,
            {"units": "m", "long_name": f"{axis} (cell centre)"},
        )
        coords[f"{axis}_lattice"] = (axis, idx, {"units": "cells"})
    data = {
        "u": (dims, u[0] * vel, {"units": "m/s"}),
        "v": (dims, u[1] * vel, {"units": "m/s"}),
        "rho": (dims, rho, {"units": "1", "long_name": "lattice density"}),
        "p": (dims, observables.pressure(rho) * units.pressure_scale(), {"units": "Pa"}),
        "mask": (dims, mask, {"long_name": "solid (1) or fluid (0)"}),
    }
    if dim == 3:
        data["w"] = (dims, u[2] * vel, {"units": "m/s"})
    else:
        omega = observables.vorticity(u * vel, dx)
        data["vorticity"] = (dims, omega, {"units": "1/s"})
    body = getattr(solver, "sdf", None)  # a solver of periodic boxes has no body
    if body is not None:
        sdf = to_public(body[inner]) * dx
        data["sdf"] = (dims, sdf, {"units": "m", "long_name": "signed distance, < 0 in solid"})
    all_attrs = {
        "title": name,
        "solver": "flowlearn lattice Boltzmann (lbmpy kernels)",
        "stencil": solver.stencil,
        "collision": solver.collision.name,
        "dtype": solver.dtype,
        "time_step": solver.time,
        "time": solver.time * units.dt,
        "nu_lattice": solver.nu,
        "grid": list(solver.grid),
        **(attrs or {}),
    }
    return xr.Dataset(data, coords=coords, attrs=_clean_attrs(all_attrs))


def check(
    path: str | Path, *, overwrite: bool = False, what: str = "output", vtk_only: bool = False
) -> Path:
    """Check before computing that :func:`write` may write ``path`` (suffix, folder, what is
    there already: see :func:`flowlearn.safety.check_target`); raises ``OutputError``."""
    suffixes = VTK_SUFFIXES if vtk_only else SUFFIXES
    return check_target(path, what=what, kind=FLOW_FIELD, suffixes=suffixes, overwrite=overwrite)


def write(ds, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``ds`` by suffix: ``.zarr`` (directory store), ``.nc`` (netCDF), ``.vtk`` (legacy
    VTK structured points) or ``.vti`` (VTK XML image data).

    An existing ``path`` is replaced only if it is a flowlearn flow field, or a file and
    ``overwrite`` is set; never a folder flowlearn did not write (``OutputError`` otherwise).
    The file is written beside ``path`` and moved into place, so an interrupted write leaves
    the previous one whole.
    """
    path = check(path, overwrite=overwrite)
    ds = ds.assign_attrs({MARK: FLOW_FIELD})
    return write_replacing(path, lambda tmp: _write_format(ds, tmp))


def _write_format(ds, path: Path) -> Path:
    suffix = path.suffix.lower()
    if suffix == ".zarr":
        ds.to_zarr(path, mode="w-", consolidated=False)
    elif suffix in (".nc", ".nc4", ".netcdf"):
        ds.to_netcdf(path)
    elif suffix == ".vtk":
        write_vtk_legacy(ds, path)
    elif suffix == ".vti":
        write_vti(ds, path)
    else:
        raise ValueError(f"unknown output format {suffix!r}: use .zarr, .nc, .vtk or .vti")
    return path


def _vtk_arrays(ds) -> tuple[tuple[int, int, int], float, list[tuple[str, np.ndarray, int]]]:
    """Dims (nx, ny, nz), spacing and point arrays in VTK order (x fastest): the velocity
    ``(u, v[, w])`` as a vector (when there are u and v), then every other variable over the
    grid's dims as a scalar (p, rho, vorticity, mask, sdf, and whatever a caller added: a
    spread, an error, a mode)."""
    nx, ny = ds.sizes["x"], ds.sizes["y"]
    nz = ds.sizes.get("z", 1)
    dx = float(ds.x[1] - ds.x[0]) if nx > 1 else 1.0
    grid_dims = DIMS[3] if "z" in ds.sizes else DIMS[2]

    def order(a: np.ndarray) -> np.ndarray:
        a = np.asarray(a, dtype=np.float32)
        a = a[..., None] if a.ndim == 2 else a  # [y, x, z]
        return np.nan_to_num(np.transpose(a, (2, 0, 1)).ravel())  # z slowest, x fastest

    arrays = []
    if "u" in ds and "v" in ds:  # a velocity vector; fields without one are scalars only
        w = ds["w"].values if "w" in ds else np.zeros_like(ds["u"].values)
        vel = np.stack([order(ds["u"].values), order(ds["v"].values), order(w)], axis=1)
        arrays.append(("velocity", vel, 3))
    for name, var in ds.data_vars.items():
        if name not in ("u", "v", "w") and var.dims == grid_dims:
            arrays.append((str(name), order(var.values), 1))
    return (nx, ny, nz), dx, arrays


def write_vtk_legacy(ds, path: str | Path) -> Path:
    """Legacy ASCII-header, binary (big-endian float32) VTK STRUCTURED_POINTS file."""
    (nx, ny, nz), dx, arrays = _vtk_arrays(ds)
    path = Path(path)
    with open(path, "wb") as fh:
        title = f"{VTK_TITLE}: {ds.attrs.get(MARK, FLOW_FIELD)}; {ds.attrs.get('title', '')}"
        head = (
            "# vtk DataFile Version 3.0\n"
            f"{title[:255]}\nBINARY\nDATASET STRUCTURED_POINTS\n"
            f"DIMENSIONS {nx} {ny} {nz}\nORIGIN {dx / 2} {dx / 2} {dx / 2 if nz > 1 else 0}\n"
            f"SPACING {dx} {dx} {dx}\nPOINT_DATA {nx * ny * nz}\n"
        )
        fh.write(head.encode())
        for name, arr, ncomp in arrays:
            if ncomp == 3:
                fh.write(f"VECTORS {name} float\n".encode())
            else:
                fh.write(f"SCALARS {name} float 1\nLOOKUP_TABLE default\n".encode())
            fh.write(np.ascontiguousarray(arr, dtype=">f4").tobytes())
            fh.write(b"\n")
    return path


def write_vti(ds, path: str | Path) -> Path:
    """VTK XML ImageData (``.vti``) with ASCII data arrays (small fields; ParaView reads it)."""
    (nx, ny, nz), dx, arrays = _vtk_arrays(ds)
    lines = [
        '<?xml version="1.0"?>',
        f"<!-- {MARK}: {ds.attrs.get(MARK, FLOW_FIELD)} -->",
        '<VTKFile type="ImageData" version="0.1" byte_order="LittleEndian">',
        f'<ImageData WholeExtent="0 {nx - 1} 0 {ny - 1} 0 {nz - 1}" '
        f'Origin="{dx / 2} {dx / 2} {dx / 2 if nz > 1 else 0}" Spacing="{dx} {dx} {dx}">',
        f'<Piece Extent="0 {nx - 1} 0 {ny - 1} 0 {nz - 1}">',
        '<PointData Vectors="velocity">'
        if arrays and arrays[0][0] == "velocity"
        else "<PointData>",
    ]
    for name, arr, ncomp in arrays:
        values = " ".join(f"{x:.7g}" for x in np.asarray(arr).ravel())
        lines.append(
            f'<DataArray type="Float32" Name="{name}" NumberOfComponents="{ncomp}" '
            f'format="ascii">{values}</DataArray>'
        )
    lines += ["</PointData>", "</Piece>", "</ImageData>", "</VTKFile>"]
    Path(path).write_text("\n".join(lines), encoding="utf-8")
    return Path(path)
