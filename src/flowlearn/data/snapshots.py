"""Flow snapshots from a user's file, for modal decompositions (``flowlearn rom fit``).

The layout read (netCDF ``.nc`` or Zarr ``.zarr``, any xarray can open): a ``time`` dimension
first, then the same spatial dimensions (``y, x`` in 2-D) for every variable decomposed, for
example ``u(time, y, x)`` and ``v(time, y, x)``; a ``time`` coordinate (equally spaced for DMD;
``0, 1, 2, ...`` if absent); optionally a ``mask(y, x)``, non-zero in solid cells, which are
left out (set to 0). flowlearn's wake stores (:mod:`flowlearn.data.wake`) have this layout,
with ``time_value`` the time in ``D / U``.

:func:`read_snapshots` checks what it reads and says what is wrong: no such file, no ``time``
dimension, variables of different shapes, NaN or inf (which variable, which snapshot), a single
snapshot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from flowlearn.safety.memory import require_memory


class SnapshotError(ValueError):
    """A snapshot file that cannot be decomposed; the message says why."""


@dataclass
class Snapshots:
    """``values (n, C, *space)`` float64 (solid cells 0), the variable ``names`` (C), the
    ``time`` ``(n,)``, the solid ``mask`` (``space``, or None), the spatial ``coords``
    (name -> values) and the file's ``attrs``."""

    values: np.ndarray
    names: list[str]
    time: np.ndarray
    mask: np.ndarray | None
    dims: tuple[str, ...]
    coords: dict[str, np.ndarray] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)


def _open(path: Path):
    import xarray as xr

    if not path.exists():
        raise SnapshotError(f"no snapshot file at {path}")
    try:
        if path.suffix.lower() == ".zarr":
            return xr.open_zarr(path, consolidated=False)
        return xr.open_dataset(path)
    except Exception as exc:  # any format error: one line
        raise SnapshotError(f"{path} cannot be read as netCDF or Zarr: {exc}") from None


def read_snapshots(path: str | Path, variables: list[str] | None = None) -> Snapshots:
    """The snapshots of ``variables`` (default: every floating-point variable whose first
    dimension is ``time`` and that has spatial dimensions) in the file at ``path``."""
    path = Path(path)
    ds = _open(path)
    if "time" not in ds.dims:
        raise SnapshotError(
            f"{path} has no 'time' dimension (dimensions: {', '.join(map(str, ds.dims)) or 'none'})"
            ": snapshots are variables (time, y, x)"
        )
    if variables:
        missing = [v for v in variables if v not in ds.data_vars]
        if missing:
            raise SnapshotError(
                f"{path} has no variable {', '.join(missing)}; it has "
                f"{', '.join(map(str, ds.data_vars))}"
            )
        names = list(variables)
    else:
        names = [
            str(k)
            for k, v in ds.data_vars.items()
            if v.dims[:1] == ("time",) and v.ndim >= 2 and np.issubdtype(v.dtype, np.floating)
        ]
        if not names:
            raise SnapshotError(f"{path} has no floating-point variable over (time, ...)")
    dims = {name: tuple(map(str, ds[name].dims)) for name in names}
    first = dims[names[0]]
    if first[0] != "time" or len(first) < 2:
        raise SnapshotError(f"{path}: {names[0]} has dimensions {first}; expected (time, y, x)")
    other = [f"{n} {d}" for n, d in dims.items() if d != first]
    if other:
        raise SnapshotError(
            f"{path}: the variables have different dimensions ({names[0]} {first}, "
            f"{'; '.join(other)}): decompose variables over the same grid"
        )
    n = ds.sizes["time"]
    if n < 2:
        raise SnapshotError(f"{path} holds {n} snapshot(s): a decomposition needs at least 2")
    space = tuple(ds.sizes[d] for d in first[1:])
    require_memory(
        3 * 8 * n * len(names) * math.prod(space),
        f"the {n} snapshots of {path.name}",
        "decompose fewer variables or a smaller window",
    )
    values = np.stack([np.asarray(ds[name].values, dtype=float) for name in names], axis=1)
    mask = None
    if "mask" in ds.data_vars:
        mask = np.asarray(ds["mask"].values) != 0
        if mask.shape != space:
            raise SnapshotError(f"{path}: mask of shape {mask.shape}, the snapshots' {space}")
        values[:, :, mask] = 0.0
    bad = ~np.isfinite(values)
    if bad.any():
        t_idx, c_idx = (int(a[0]) for a in np.nonzero(bad.reshape(n, len(names), -1).any(axis=2)))
        raise SnapshotError(
            f"{path}: NaN or inf in {names[c_idx]} at snapshot {t_idx} (and "
            f"{int(bad.reshape(n, -1).any(axis=1).sum())} snapshot(s) in all): fill or drop them"
        )
    if "time_value" in ds.data_vars:
        time = np.asarray(ds["time_value"].values, dtype=float)
    else:
        time = np.asarray(ds["time"].values, dtype=float)
    coords = {d: np.asarray(ds[d].values) for d in first[1:] if d in ds.coords}
    return Snapshots(values, names, time, mask, first[1:], coords, dict(ds.attrs))
