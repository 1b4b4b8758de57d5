"""RANS inputs and DNS/LES labels for turbulence closures: the reference flows and your own.

Every reader returns a :class:`RansFlow`: per cell, what a RANS model knows (``k``, ``epsilon``,
the mean velocity gradient) and, when the flow is labelled, what it should have predicted (the
DNS/LES Reynolds stresses), as float64 arrays.

Conventions (the same for every source, turned round where a source differs):

- ``grad_u[:, i, j] = dU_i / dx_j`` (OpenFOAM's ``grad(U)`` is the transpose: read here, it is
  turned round).
- ``tau[:, i, j] = <u_i' u_j'>``, the Reynolds stresses (positive diagonal), not
  ``-<u_i' u_j'>`` and not divided by the density.
- One time scale ``k / epsilon`` for every flow; k-omega inputs give ``epsilon = 0.09 k omega``
  (stated in ``meta["inputs"]``).
- Units: each flow keeps its source's (``meta["length_unit"]``, ``meta["velocity_unit"]``);
  ``k``, ``epsilon`` and ``grad_u`` are always in one consistent set, and the anisotropy
  ``b = tau / (2 k) - I / 3`` is dimensionless.

Your own flow: the table schema (:func:`read_table`, :func:`write_table`)
--------------------------------------------------------------------------
A CSV file (``.csv``, or gzipped ``.csv.gz``; ``#`` comment lines allowed before the header) or
a netCDF file (``.nc``: one variable per column below, all on the dimension ``cell``). One row
(one ``cell``) per RANS cell::

    x, y, z                 optional (all three or none): cell centre
    wall_distance           optional: distance to the nearest wall, same length unit as x, y, z
    k                       required: RANS turbulent kinetic energy, > 0
    epsilon | omega         exactly one, > 0: RANS dissipation rate, or the specific dissipation
                            rate omega (then epsilon = 0.09 k omega, noted in meta["inputs"])
    dUxdx, dUxdy, dUxdz,    required: the RANS mean velocity gradient, dU_i/dx_j
    dUydx, dUydy, dUydz,    (dUxdy is dU_x/dy)
    dUzdx, dUzdy, dUzdz
    uu, uv, uw, vv, vw, ww  optional (all six or none): DNS/LES Reynolds stresses <u_i' u_j'>

Units: SI or any consistent set (only consistency matters: ``b`` is dimensionless). Other
columns are ignored (listed in ``meta["ignored_columns"]``). :func:`write_table` adds comment
lines (netCDF: attributes) with the flow's name, kind, meta and dropped counts, which
:func:`read_table` reads back.

Validation (every reader): a missing column is a :class:`RansDataError` naming the file and the
columns; a non-finite value, ``k <= 0`` or ``epsilon <= 0`` (``omega <= 0``) one naming the file,
the column and the count. With ``drop_invalid=True`` those cells are dropped instead and counted
in ``flow.dropped`` (``{"epsilon <= 0": 1}``; a cell failing two checks counts under both).

Named flows (:data:`FLOWS`, :func:`load_flow`)
-----------------------------------------------
``channel_Re180/550/2000`` (Hoyas & Jimenez DNS labels, a k-epsilon RANS as inputs),
``channel_Re590`` (Ling et al.'s TBNN example), ``duct_AR{1,3,5,7,10,14}_Re{180,360}`` and
``hill_Re10595`` (McConkey et al.'s benchmark), ``duct_pinelli_Reb3500`` (TBRF's k-omega RANS
with Pinelli et al.'s DNS). Their files are looked for, in this order, in::

    data_dir argument                 the folder itself, or data_dir/rans
    $FLOWLEARN_DATA/rans
    <repo>/../shared/data/rans        a development checkout's reference data
    <cache>/rans                      (platformdirs) where download() writes

each holding the sources' sub-folders (``mcconkey_benchmark/``, ``hoyas_jimenez_channel/``,
``tbnn_sandia/``, ``tbrf_pinelli_duct/``). Every file is checked against its sha256
(:class:`~flowlearn.data.mnist.DigestMismatchError` names the file and both digests). The
files that are byte-for-byte copies of public files can be downloaded (:func:`download`);
McConkey's CSVs are flowlearn's conversion of OpenFOAM originals and cannot.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from flowlearn.data.cache import cache_dir
from flowlearn.data.mnist import DataNotFoundError, DigestMismatchError
from flowlearn.safety import write_replacing

log = logging.getLogger(__name__)

#: epsilon = C_MU k omega for k-omega inputs
C_MU = 0.09
DOWNLOAD_TIMEOUT_S = 60
#: The table schema's columns (module docstring).
COORD_COLUMNS = ("x", "y", "z")
GRAD_COLUMNS = tuple(f"dU{a}d{b}" for a in "xyz" for b in "xyz")
LABEL_COLUMNS = ("uu", "uv", "uw", "vv", "vw", "ww")
#: (i, j) of each label column in tau
_LABEL_INDEX = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))
KINDS = ("channel", "duct", "hill", "custom")

Opener = Callable[..., Any]


class RansDataError(ValueError):
    """Bad input data: the message names the file, the column and the count."""


# --------------------------------------------------------------------------------------------
# The flow


@dataclass(frozen=True, eq=False)
class RansFlow:
    """One flow, cell by cell: RANS inputs and (if labelled) DNS/LES Reynolds stresses.

    ``grad_u[:, i, j] = dU_i/dx_j``; ``tau[:, i, j] = <u_i' u_j'>`` (symmetric) or None;
    ``meta`` is JSON-able (source, inputs, labels, Reynolds number, units, grid);
    ``dropped`` counts the cells ``drop_invalid`` removed, by reason.
    """

    name: str
    kind: str
    k: np.ndarray
    epsilon: np.ndarray
    grad_u: np.ndarray
    tau: np.ndarray | None = None
    coords: np.ndarray | None = None
    wall_distance: np.ndarray | None = None
    meta: dict = field(default_factory=dict)
    dropped: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = np.shape(self.k)[0] if np.ndim(self.k) == 1 else -1
        expected = {
            "k": (n,),
            "epsilon": (n,),
            "grad_u": (n, 3, 3),
            "tau": (n, 3, 3),
            "coords": (n, 3),
            "wall_distance": (n,),
        }
        for name, shape in expected.items():
            value = getattr(self, name)
            if value is None and name in ("tau", "coords", "wall_distance"):
                continue
            if n < 0 or np.shape(value) != shape:
                raise RansDataError(
                    f"RansFlow {self.name!r}: {name} has shape {np.shape(value)}, expected "
                    f"{shape if n >= 0 else '(n,) for k'}"
                )
        if self.kind not in KINDS:
            raise RansDataError(
                f"RansFlow {self.name!r}: kind {self.kind!r} unknown; valid: {', '.join(KINDS)}"
            )

    @property
    def n(self) -> int:
        """The number of cells."""
        return int(self.k.shape[0])

    def subset(self, mask_or_index) -> RansFlow:
        """The same flow restricted to some cells: a boolean mask of length ``n`` or integer
        indices (order kept) or a slice. ``meta`` and ``dropped`` are kept."""
        if isinstance(mask_or_index, slice):
            mask_or_index = np.arange(self.n)[mask_or_index]
        idx = np.asarray(mask_or_index)
        if idx.dtype == bool:
            if idx.shape != (self.n,):
                raise RansDataError(
                    f"{self.name}: mask has shape {idx.shape}, expected ({self.n},)"
                )
        elif not np.issubdtype(idx.dtype, np.integer) and idx.size:
            raise RansDataError(
                f"{self.name}: subset takes a boolean mask or integer indices, not {idx.dtype}"
            )

        def take(a):
            return None if a is None else a[idx]

        return replace(
            self,
            k=self.k[idx],
            epsilon=self.epsilon[idx],
            grad_u=self.grad_u[idx],
            tau=take(self.tau),
            coords=take(self.coords),
            wall_distance=take(self.wall_distance),
            meta=dict(self.meta),
            dropped=dict(self.dropped),
        )


# --------------------------------------------------------------------------------------------
# Shared checks


def _require_file(path: Path) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    return path


def _screen(
    source: Path | str,
    n: int,
    columns: Mapping[str, np.ndarray],
    positive: Mapping[str, np.ndarray],
    drop_invalid: bool,
) -> tuple[np.ndarray, dict[str, int]]:
    """Cells to keep and ``{reason: count}``: non-finite values in ``columns``, values <= 0 in
    ``positive`` (names are the source's column names). Raises :class:`RansDataError` naming
    the file, columns and counts unless ``drop_invalid``."""
    bad = np.zeros(n, dtype=bool)
    reasons: dict[str, int] = {}
    for name, values in columns.items():
        flat = np.asarray(values, dtype=np.float64).reshape(n, -1)
        nonfinite = ~np.isfinite(flat).all(axis=1)
        if nonfinite.any():
            reasons[f"non-finite {name}"] = int(nonfinite.sum())
            bad |= nonfinite
    for name, values in positive.items():
        v = np.asarray(values, dtype=np.float64)
        low = np.isfinite(v) & (v <= 0)
        if low.any():
            reasons[f"{name} <= 0"] = int(low.sum())
            bad |= low
    if not reasons:
        return np.ones(n, dtype=bool), {}
    detail = "; ".join(
        f"column {reason.removeprefix('non-finite ').removesuffix(' <= 0')}: {count} of {n} "
        + ("values are not finite" if reason.startswith("non-finite ") else "values are <= 0")
        for reason, count in reasons.items()
    )
    if not drop_invalid:
        raise RansDataError(
            f"{source}: {detail}. Fix the data, or pass drop_invalid=True to drop those cells "
            "(counted in flow.dropped)"
        )
    keep = ~bad
    if not keep.any():
        raise RansDataError(f"{source}: no valid cell left ({detail})")
    log.info("%s: dropping %d of %d cells (%s)", source, int(bad.sum()), n, detail)
    return keep, reasons


def _missing_columns(source: Path | str, missing: list[str], found) -> RansDataError:
    return RansDataError(
        f"{source}: missing column(s) {', '.join(missing)} "
        f"(found: {', '.join(map(str, found)) or 'none'})"
    )


def _symmetric(tau: np.ndarray, source, what: str, rtol: float = 1e-6) -> np.ndarray:
    """``tau`` made exactly symmetric, or an error if it is not symmetric to ``rtol``."""
    scale = max(float(np.max(np.abs(tau), initial=0.0)), 1e-300)
    asym = float(np.max(np.abs(tau - tau.transpose(0, 2, 1)), initial=0.0))
    if asym > rtol * scale:
        raise RansDataError(
            f"{source}: {what} is not symmetric (max |tau_ij - tau_ji| = {asym:.3g}, "
            f"max |tau| = {scale:.3g})"
        )
    return 0.5 * (tau + tau.transpose(0, 2, 1))


def _wall_position(centres: np.ndarray) -> tuple[float, str]:
    """The wall at the far end of one axis of a structured grid whose near end is a symmetry
    plane at 0: faces rebuilt from the cell centres (each centre halfway between two faces),
    or, if that fails, the last centre plus half the last spacing."""
    v = np.sort(np.asarray(centres, dtype=np.float64))
    span = float(v[-1] - v[0]) or abs(float(v[-1])) or 1.0
    groups = np.split(v, np.flatnonzero(np.diff(v) > 1e-6 * span) + 1)
    c = np.array([g.mean() for g in groups])
    if len(c) >= 2 and c[0] > 0:
        faces = np.empty(len(c) + 1)
        faces[0] = 0.0
        for i, ci in enumerate(c):
            faces[i + 1] = 2.0 * ci - faces[i]
        widths = np.diff(faces)
        ratio = widths[1:] / widths[:-1] if len(widths) > 1 else np.ones(1)
        if (widths > 0).all() and (ratio > 0.5).all() and (ratio < 2.0).all():
            return float(faces[-1]), "faces rebuilt from the cell centres (symmetry plane at 0)"
    if len(c) < 2:
        raise RansDataError("cannot place a wall from a single row of cells")
    return float(c[-1] + 0.5 * (c[-1] - c[-2])), "last centre + half the last spacing"


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


def _finish(
    *,
    name: str,
    kind: str,
    source,
    k,
    epsilon,
    grad_u,
    tau,
    coords,
    wall_distance,
    meta: dict,
    columns: Mapping[str, np.ndarray],
    positive: Mapping[str, np.ndarray],
    drop_invalid: bool,
    dropped: Mapping[str, int] | None = None,
) -> RansFlow:
    """Screen the cells, drop the bad ones if asked, and build the flow (float64 arrays)."""
    n = int(np.shape(k)[0])
    keep, reasons = _screen(source, n, columns, positive, drop_invalid)

    def arr(a):
        return None if a is None else np.ascontiguousarray(np.asarray(a, np.float64)[keep])

    total = dict(dropped or {})
    for reason, count in reasons.items():
        total[reason] = total.get(reason, 0) + count
    return RansFlow(
        name=name,
        kind=kind,
        k=arr(k),
        epsilon=arr(epsilon),
        grad_u=arr(grad_u),
        tau=arr(tau),
        coords=arr(coords),
        wall_distance=arr(wall_distance),
        meta=_jsonable(meta),
        dropped=total,
    )


# --------------------------------------------------------------------------------------------
# CSV helpers


def _open_text(path: Path):
    raw = path.open("rb")
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw), encoding="utf-8")
    raw.seek(0)
    return io.TextIOWrapper(raw, encoding="utf-8")


def _read_csv(path: Path) -> tuple[list[str], dict[str, np.ndarray]]:
    """The ``#`` comment lines before the header, and each column as float64."""
    import pandas as pd

    _require_file(path)
    comments: list[str] = []
    try:
        with _open_text(path) as fh:
            for line in fh:
                if line.startswith("#"):
                    comments.append(line[1:].strip())
                elif line.strip():
                    break
        with _open_text(path) as fh:
            frame = pd.read_csv(fh, comment="#", skipinitialspace=True)
    except (OSError, EOFError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise RansDataError(f"{path}: not a readable CSV file ({err})") from None
    except pd.errors.EmptyDataError:
        raise RansDataError(f"{path}: no header line and no data") from None
    columns: dict[str, np.ndarray] = {}
    for name in frame.columns:
        col = frame[name]
        key = str(name).strip()
        if key in columns:
            raise RansDataError(f"{path}: column {key} appears twice")
        values = pd.to_numeric(col, errors="coerce")
        not_number = values.isna() & col.notna()
        if not_number.any():
            first = int(np.flatnonzero(not_number.to_numpy())[0])
            raise RansDataError(
                f"{path}: column {key}: {int(not_number.sum())} of {len(col)} values are not "
                f"numbers (first: {col.iloc[first]!r} in data row {first + 1})"
            )
        columns[key] = values.to_numpy(dtype=np.float64)
    return comments, columns


# --------------------------------------------------------------------------------------------
# McConkey et al.'s benchmark (converted CSV)

_MCCONKEY_NAME = re.compile(r"duct_AR_(\d+)_Ret_(\d+)")
_HILL_NAME = re.compile(r"periodic_hill_Re(\d+)")
_DUCT_GRID = re.compile(r"(\d+)\s*\(y\)\s*x\s*(\d+)\s*\(z\)")
_HILL_GRID = re.compile(r"(\d+)\s*\(x[^)]*\)\s*x\s*(\d+)\s*\(y\)")
MCCONKEY_ORIGIN = (
    "https://github.com/rmcconke/ml-turbulence-benchmark at commit "
    "66f2035f94c8306b74308aaa7c80855eb7a8576f (OpenFOAM ascii: data/DUCT/<case>/ and "
    "data/PH_Breuer/)"
)


def read_mcconkey(path: str | os.PathLike[str], drop_invalid: bool = False) -> RansFlow:
    """A case of McConkey et al.'s benchmark as flowlearn's gzip CSV (``duct_AR_<a>_Ret_<r>.csv
    .gz``, ``periodic_hill_Re10595.csv.gz``): k-omega SST inputs (``k_rans``, ``omega_rans``,
    ``epsilon = 0.09 k omega``; gradients from the ``dU?d?_rans`` columns, d/dx = 0 in the duct,
    d/dz = 0 on the hill) and DNS (duct) / LES (hill) stresses.

    Duct geometry: one quadrant, symmetry planes at y = 0 and z = 0, walls at the far ends,
    placed from the grid (faces rebuilt from the cell centres); ``wall_distance`` is the
    distance to the nearer of the two walls. Hill: no wall distance (curved wall).
    """
    path = Path(path)
    comments, cols = _read_csv(path)
    stem = path.name.removesuffix(".gz").removesuffix(".csv")
    header = " ".join(comments)
    m_duct, m_hill = _MCCONKEY_NAME.search(stem), _HILL_NAME.search(stem)
    if m_duct:
        kind, name = "duct", f"duct_AR{m_duct[1]}_Re{m_duct[2]}"
    elif m_hill or "dUxdx_rans" in cols:
        kind = "hill"
        name = f"hill_Re{m_hill[1]}" if m_hill else stem
    else:
        kind, name = "custom", stem
    grads = (
        ("dUxdx", "dUxdy", "dUydx", "dUydy")
        if kind == "hill"
        else ("dUxdy", "dUxdz", "dUydy", "dUydz", "dUzdy", "dUzdz")
    )
    suffix = "les" if "uu_les" in cols else "dns"
    required = ["x", "y", "z", "k_rans", "omega_rans", *(f"{g}_rans" for g in grads)]
    labels = [f"{c}_{suffix}" for c in LABEL_COLUMNS]
    has_labels = any(c in cols for c in labels)
    missing = [c for c in required + (labels if has_labels else []) if c not in cols]
    if missing:
        raise _missing_columns(path, missing, cols)
    n = len(cols["k_rans"])
    k, omega = cols["k_rans"], cols["omega_rans"]
    grad = np.zeros((n, 3, 3))
    for g in grads:
        grad[:, "xyz".index(g[2]), "xyz".index(g[4])] = cols[f"{g}_rans"]
    tau = None
    if has_labels:
        tau = np.zeros((n, 3, 3))
        for c, (i, j) in zip(labels, _LABEL_INDEX, strict=True):
            tau[:, i, j] = tau[:, j, i] = cols[c]
    coords = np.stack([cols["x"], cols["y"], cols["z"]], axis=1)
    meta: dict[str, Any] = {
        "source": str(path),
        "origin": MCCONKEY_ORIGIN,
        "inputs": "k-omega SST RANS (OpenFOAM, McConkey et al. benchmark); "
        "epsilon = 0.09 k omega; grad_u derived by 2nd-order finite differences "
        "(flowlearn-side conversion)",
        "labels": "LES" if suffix == "les" else "DNS",
    }
    wall = None
    columns = {c: cols[c] for c in required + (labels if has_labels else [])}
    if kind == "duct":
        grid = _DUCT_GRID.search(header)
        if grid:
            ny, nz = int(grid[1]), int(grid[2])
            meta.update(grid=[ny, nz], grid_dims=["y", "z"], grid_reshape=[nz, ny])
        ly, how = _wall_position(cols["y"]) if np.isfinite(cols["y"]).all() else (np.nan, "")
        lz, _ = _wall_position(cols["z"]) if np.isfinite(cols["z"]).all() else (np.nan, "")
        if np.isfinite(ly) and np.isfinite(lz):
            wall = np.minimum(ly - cols["y"], lz - cols["z"])
        meta.update(
            re_tau=float(m_duct[2]) if m_duct else None,
            aspect_ratio=round(lz / ly, 4) if np.isfinite(ly) and np.isfinite(lz) else None,
            aspect_ratio_nominal=float(m_duct[1]) if m_duct else None,
            walls={"y": ly, "z": lz},
            wall_placement=how,
            symmetry_planes="y = 0 and z = 0",
            streamwise="x",
            length_unit="m",
            velocity_unit="m/s",
        )
    else:
        grid = _HILL_GRID.search(header)
        if grid:
            nx, ny = int(grid[1]), int(grid[2])
            meta.update(grid=[nx, ny], grid_dims=["x", "y"], grid_reshape=[ny, nx])
        meta.update(
            re_h=float(m_hill[1]) if m_hill else None,
            streamwise="x",
            length_unit="H (hill height)",
            velocity_unit="as in the source (dimensionless, bulk velocity ~1)",
        )
    meta["header"] = comments
    return _finish(
        name=name,
        kind=kind,
        source=path,
        k=k,
        epsilon=C_MU * k * omega,
        grad_u=grad,
        tau=tau,
        coords=coords,
        wall_distance=wall,
        meta=meta,
        columns=columns,
        positive={"k_rans": k, "omega_rans": omega},
        drop_invalid=drop_invalid,
    )


# --------------------------------------------------------------------------------------------
# Ling et al.'s TBNN example (Sandia), channel Re_tau = 590


def read_sandia_channel(path: str | os.PathLike[str], drop_invalid: bool = False) -> RansFlow:
    """``tbnn_sandia/channel.txt``: 59 points of a channel at Re_tau = 590, k-epsilon RANS
    inputs (``tke``, ``epsilon``, ``grad_u_ij = dU_i/dx_j``) and DNS stresses (``uu_ij``,
    Moser, Kim & Mansour 1999). No coordinates in the file."""
    path = _require_file(Path(path))
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise RansDataError(f"{path}: cannot read it as text ({err})") from None
    head = next(
        (i for i, line in enumerate(lines) if "tke" in [t.strip() for t in line.split(",")]),
        None,
    )
    if head is None:
        raise RansDataError(f"{path}: no column-name line (one naming tke, epsilon, ...)")
    names = [t.strip() for t in lines[head].split(",")]
    grad_names = [f"grad_u_{i}{j}" for i in range(3) for j in range(3)]
    uu_names = [f"uu_{i}{j}" for i in range(3) for j in range(3)]
    missing = [c for c in ["tke", "epsilon", *grad_names, *uu_names] if c not in names]
    if missing:
        raise _missing_columns(path, missing, names)
    rows = [line for line in lines[head + 1 :] if line.strip()]
    try:
        data = np.array([[float(v) for v in line.split()] for line in rows], dtype=np.float64)
    except ValueError as err:
        raise RansDataError(f"{path}: a data row is not numbers ({err})") from None
    if data.ndim != 2 or data.shape[1] != len(names):
        widths = sorted({len(line.split()) for line in rows})
        raise RansDataError(f"{path}: {len(names)} column names but rows of {widths} values")
    col = {name: data[:, i] for i, name in enumerate(names)}
    n = data.shape[0]
    grad = np.stack([col[c] for c in grad_names], axis=1).reshape(n, 3, 3)
    tau = _symmetric(np.stack([col[c] for c in uu_names], axis=1).reshape(n, 3, 3), path, "uu_ij")
    meta = {
        "source": str(path),
        "origin": "https://github.com/sandialabs/tbnn examples/turbulence/channel.txt at "
        "701d57e402f268da047435b0a842e18689f74e14",
        "inputs": "k-epsilon RANS (tke, epsilon, grad_u_ij = dU_i/dx_j), from the file",
        "labels": "DNS (Moser, Kim & Mansour 1999)",
        "re_tau": 590.0,
        "streamwise": "x (index 0); wall-normal: y (index 1)",
        "length_unit": "not stated in the file (a consistent set)",
        "velocity_unit": "not stated in the file (a consistent set)",
    }
    return _finish(
        name="channel_Re590",
        kind="channel",
        source=path,
        k=col["tke"],
        epsilon=col["epsilon"],
        grad_u=grad,
        tau=tau,
        coords=None,
        wall_distance=None,
        meta=meta,
        columns={c: col[c] for c in ["tke", "epsilon", *grad_names, *uu_names]},
        positive={"tke": col["tke"], "epsilon": col["epsilon"]},
        drop_invalid=drop_invalid,
    )


# --------------------------------------------------------------------------------------------
# Hoyas & Jimenez channel DNS (+ a k-epsilon RANS of the same channels)

#: Re_tau of the Hoyas-Jimenez files that have k-epsilon RANS profiles (kepsilon_rans/)
HOYAS_RANS = (180, 550, 2000)
HOYAS_ORIGIN = (
    "https://github.com/AlbertoCuadra/RANS_turbulent_channel_flow at commit "
    "fed9eca03e59478cfe17bd4b62d529545fba372a"
)
_PROF_COLUMNS = ("y/h", "y+", "U+", "u'+", "v'+", "w'+", "-Om_z+", "om_x'+", "om_y'+", "om_z'+",
                 "uv'+")  # fmt: skip
_KBAL_COLUMNS = ("y/h", "y+", "dissip")


def _read_hoyas_table(path: Path, names: tuple[str, ...]) -> tuple[dict[str, np.ndarray], str]:
    _require_file(path)
    try:
        text = path.read_text(encoding="latin-1")
        data = np.loadtxt(io.StringIO(text), comments="%", ndmin=2)
    except ValueError as err:
        raise RansDataError(f"{path}: a data row is not numbers ({err})") from None
    if data.shape[1] < len(names):
        raise RansDataError(
            f"{path}: rows of {data.shape[1]} values, expected at least {len(names)} "
            f"({', '.join(names)}): missing column(s) {', '.join(names[data.shape[1] :])}"
        )
    return {name: data[:, i] for i, name in enumerate(names)}, text


def read_hoyas_channel(
    folder: str | os.PathLike[str],
    re_tau: int,
    inputs: str = "rans",
    drop_invalid: bool = False,
) -> RansFlow:
    """A Hoyas-Jimenez channel (``hoyas_jimenez_channel/``), lower half (y/h <= 1), in wall
    units.

    Labels (DNS): ``tau = [[u'^2, uv, 0], [uv, v'^2, 0], [0, 0, w'^2]]`` from the ``.prof``
    rms columns and its ``uv'+`` column, which is ``<u'v'>+`` itself (negative where
    dU+/dy+ > 0): no sign change.

    ``inputs="dns"``: k+ from the rms, eps+ = -dissip (``.bal.kbal``), dU+/dy+ the ``.prof``
    column (-Om_z+), at the DNS points. ``inputs="rans"``: the student k-epsilon profiles
    ``kepsilon_rans/kepsilon_<re>.mat`` (Re_tau 180, 550, 2000 only): k+ = ``k_kepsilon``,
    eps+ = ``ep_kepsilon / re_tau`` (the file holds eps h/u_tau^3), dU+/dy+ by finite
    differences of U+ against y+ = (y/h) re_tau; the DNS labels are interpolated (PCHIP of the
    rms and uv) to the RANS points. Near the wall the RANS profiles hold k = 0 and eps = 0 (the
    solver's wall condition and its clipping of negative values): those cells fail validation,
    so such a flow needs ``drop_invalid=True``.

    ``coords = (0, y/h, 0)``, ``wall_distance = y/h``.
    """
    folder = Path(folder)
    if inputs not in ("rans", "dns"):
        raise RansDataError(f"inputs={inputs!r} unknown; choose 'rans' or 'dns'")
    re_tau = int(re_tau)
    prof_path = folder / f"Re{re_tau}.prof"
    prof, prof_text = _read_hoyas_table(prof_path, _PROF_COLUMNS)
    found = re.search(r"Re_\{\\tau\}\s*=\s*([0-9.]+)", prof_text)
    upper = prof["y/h"] <= 1.0 + 1e-12
    prof = {k: v[upper] for k, v in prof.items()}
    y_dns = prof["y/h"]
    re_dns = float(prof["y+"][-1] / y_dns[-1]) if y_dns[-1] > 0 else float("nan")
    meta: dict[str, Any] = {
        "origin": HOYAS_ORIGIN,
        "labels": "DNS (Hoyas & Jimenez 2008; del Alamo & Jimenez 2003), UPM channel database",
        "re_tau": float(re_tau),
        "re_tau_dns": re_dns,
        "re_tau_header": float(found[1]) if found else None,
        "uv_sign": "the .prof uv'+ column is <u'v'>+ (negative in the lower half, where "
        "dU+/dy+ > 0): used as it is",
        "streamwise": "x (index 0); wall-normal: y (index 1), wall at y = 0",
        "length_unit": "h (coords, wall_distance)",
        "gradient_unit": "u_tau^2/nu (dU+/dy+, wall units)",
        "velocity_unit": "u_tau",
        "k_epsilon_units": "wall units: k+ (u_tau^2), eps+ (u_tau^4/nu)",
    }
    label_cols = {c: prof[c] for c in ("y/h", "u'+", "v'+", "w'+", "uv'+")}
    if inputs == "dns":
        kbal_path = folder / f"Re{re_tau}.bal.kbal"
        kbal, _ = _read_hoyas_table(kbal_path, _KBAL_COLUMNS)
        kbal = {k: v[kbal["y/h"] <= 1.0 + 1e-12] for k, v in kbal.items()}
        if kbal["y/h"].shape != y_dns.shape or not np.allclose(kbal["y/h"], y_dns, atol=1e-9):
            raise RansDataError(
                f"{kbal_path}: its y/h column ({kbal['y/h'].size} points) is not that of "
                f"{prof_path} ({y_dns.size} points)"
            )
        y = y_dns
        u, v, w, uv = prof["u'+"], prof["v'+"], prof["w'+"], prof["uv'+"]
        k = 0.5 * (u**2 + v**2 + w**2)
        eps = -kbal["dissip"]
        dudy = prof["-Om_z+"]
        columns = {**label_cols, "-Om_z+": dudy, "dissip": kbal["dissip"]}
        positive = {"k+ (from u'+, v'+, w'+)": k, "-dissip": eps}
        name = f"channel_Re{re_tau}_dns_inputs"
        meta.update(
            source=str(prof_path),
            files=[str(prof_path), str(kbal_path)],
            inputs="DNS: k+ = (u'^2 + v'^2 + w'^2)/2, eps+ = -dissip (.bal.kbal), "
            "dU+/dy+ = -Om_z+ (.prof)",
        )
    else:
        mat_path = folder / "kepsilon_rans" / f"kepsilon_{re_tau}.mat"
        if not mat_path.is_file():
            have = sorted(p.name for p in (folder / "kepsilon_rans").glob("kepsilon_*.mat"))
            raise RansDataError(
                f"{mat_path}: no k-epsilon RANS profiles for Re_tau = {re_tau} (file missing; "
                f"found: {', '.join(have) or 'none'}; flowlearn's copies cover Re_tau "
                f"{', '.join(map(str, HOYAS_RANS))}). Use inputs='dns' for this Reynolds number"
            )
        from scipy.interpolate import PchipInterpolator
        from scipy.io import loadmat

        try:
            mat = loadmat(mat_path)
        except (ValueError, OSError, TypeError) as err:
            raise RansDataError(f"{mat_path}: not a readable MATLAB file ({err})") from None
        wanted = ("y_kepsilon", "u_kepsilon", "k_kepsilon", "ep_kepsilon")
        missing = [c for c in wanted if c not in mat]
        if missing:
            raise _missing_columns(mat_path, missing, [k for k in mat if not k.startswith("__")])
        rans = {c: np.asarray(mat[c], dtype=np.float64).ravel() for c in wanted}
        sizes = {c: v.size for c, v in rans.items()}
        if len(set(sizes.values())) != 1:
            raise RansDataError(f"{mat_path}: variables of different lengths {sizes}")
        order = np.argsort(rans["y_kepsilon"], kind="stable")
        rans = {c: v[order] for c, v in rans.items()}
        keep_half = rans["y_kepsilon"] <= 1.0 + 1e-12
        rans = {c: v[keep_half] for c, v in rans.items()}
        y = rans["y_kepsilon"]
        if not (np.isfinite(y).all() and np.isfinite(rans["u_kepsilon"]).all()):
            raise RansDataError(
                f"{mat_path}: y_kepsilon or u_kepsilon has non-finite values: cannot "
                "differentiate U+"
            )
        if y.size < 3 or (np.diff(y) <= 0).any():
            raise RansDataError(f"{mat_path}: y_kepsilon is not strictly increasing")
        yplus = y * re_tau
        dudy = np.gradient(rans["u_kepsilon"], yplus)
        k = rans["k_kepsilon"]
        eps = rans["ep_kepsilon"] / re_tau

        def at_rans(values):
            return PchipInterpolator(y_dns, values, extrapolate=True)(y)

        u, v, w, uv = (at_rans(prof[c]) for c in ("u'+", "v'+", "w'+", "uv'+"))
        columns = {**label_cols, **rans}
        columns = {c: (at_rans(a) if c in label_cols else a) for c, a in columns.items()}
        positive = {"k_kepsilon": k, "ep_kepsilon": eps}
        name = f"channel_Re{re_tau}"
        meta.update(
            source=str(mat_path),
            files=[str(prof_path), str(mat_path)],
            inputs="k-epsilon RANS (Chien low-Re model; student project "
            "AlbertoCuadra/RANS_turbulent_channel_flow): k+ = k_kepsilon, "
            f"eps+ = ep_kepsilon / {re_tau} (Chien's modified dissipation, 0 at the wall), "
            "dU+/dy+ = np.gradient(U+, y+)",
            labels_interpolation="PCHIP of u'+, v'+, w'+, uv'+ in y/h to the RANS points",
        )
    n = y.size
    tau = np.zeros((n, 3, 3))
    tau[:, 0, 0], tau[:, 1, 1], tau[:, 2, 2] = u**2, v**2, w**2
    tau[:, 0, 1] = tau[:, 1, 0] = uv
    grad = np.zeros((n, 3, 3))
    grad[:, 0, 1] = dudy
    coords = np.zeros((n, 3))
    coords[:, 1] = y
    return _finish(
        name=name,
        kind="channel",
        source=meta["source"],
        k=k,
        epsilon=eps,
        grad_u=grad,
        tau=tau,
        coords=coords,
        wall_distance=y.copy(),
        meta=meta,
        columns=columns,
        positive=positive,
        drop_invalid=drop_invalid,
    )


# --------------------------------------------------------------------------------------------
# OpenFOAM ascii fields

_FOAM_SIZES = {"scalar": 1, "vector": 3, "symmTensor": 6, "tensor": 9}
_CLASS_TYPES = {
    "volScalarField": "scalar",
    "volVectorField": "vector",
    "volSymmTensorField": "symmTensor",
    "volTensorField": "tensor",
    "scalarField": "scalar",
    "vectorField": "vector",
    "symmTensorField": "symmTensor",
    "tensorField": "tensor",
}
_SYMM = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))


def _strip_foam_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def _shape_values(flat: np.ndarray, kind: str, n: int) -> np.ndarray:
    if kind == "scalar":
        return flat.reshape(n)
    if kind == "vector":
        return flat.reshape(n, 3)
    if kind == "tensor":
        return flat.reshape(n, 3, 3)
    six = flat.reshape(n, 6)
    full = np.empty((n, 3, 3))
    for c, (i, j) in enumerate(_SYMM):
        full[:, i, j] = full[:, j, i] = six[:, c]
    return full


def _parse_numbers(body: str, path: Path, what: str) -> np.ndarray:
    tokens = body.replace("(", " ").replace(")", " ").split()
    try:
        return np.array(tokens, dtype=np.float64)
    except ValueError:
        bad = next(t for t in tokens if not _is_number(t))
        raise RansDataError(f"{path}: {what}: {bad!r} is not a number") from None


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def read_foam_field(path: str | os.PathLike[str], n: int | None = None) -> np.ndarray:
    """The internal field of an OpenFOAM ascii field file, as float64.

    ``nonuniform List<scalar|vector|tensor|symmTensor>`` gives shapes ``(n,)``, ``(n, 3)``,
    ``(n, 3, 3)`` (tensors row-major as stored: OpenFOAM's ``grad(U)`` entry ij is
    dU_j/dx_i), a symmTensor (xx xy xz yy yz zz) the full symmetric ``(n, 3, 3)``. ``uniform``
    gives the one value (shape ``()``, ``(3,)``, ``(3, 3)``), or ``n`` copies if ``n`` is
    given. A plain list file (class ``vectorField``, e.g. ``constant/C``, or a bare
    ``N ( ... )`` list) is read the same way. Anything malformed is a :class:`RansDataError`.
    """
    path = _require_file(Path(path))
    try:
        raw = path.read_text(encoding="latin-1")
    except OSError as err:
        raise RansDataError(f"{path}: cannot read it ({err})") from None
    text = _strip_foam_comments(raw)
    header = re.search(r"FoamFile\s*\{(.*?)\}", text, flags=re.S)
    cls = None
    if header:
        fmt = re.search(r"\bformat\s+(\w+)\s*;", header[1])
        if fmt and fmt[1] != "ascii":
            raise RansDataError(
                f"{path}: format {fmt[1]} is not supported; convert the case to ascii "
                "(foamFormatConvert with writeFormat ascii)"
            )
        found = re.search(r"\bclass\s+(\w+)\s*;", header[1])
        cls = found[1] if found else None
        body_start = header.end()
    else:
        body_start = 0
    hinted = _CLASS_TYPES.get(cls or "")
    m = re.search(r"\binternalField\s+(nonuniform|uniform)\b", text[body_start:])
    if m is None:
        # a plain list file: N ( ... )
        plain = re.match(r"\s*(\d+)\s*\(", text[body_start:])
        if plain is None:
            raise RansDataError(
                f"{path}: no internalField entry and no 'N ( ... )' list: not an OpenFOAM "
                f"field file (class {cls or 'unknown'})"
            )
        count = int(plain[1])
        start = body_start + plain.end()
        end = text.rfind(")")
        if end < start:
            raise RansDataError(f"{path}: the list of {count} values is not closed with ')'")
        flat = _parse_numbers(text[start:end], path, "list")
        kind = hinted
        if kind is None:
            per = flat.size / count if count else 0
            kind = next((t for t, s in _FOAM_SIZES.items() if s == per), None)
        if kind is None or flat.size != count * _FOAM_SIZES[kind]:
            raise RansDataError(
                f"{path}: a list of {count} entries holds {flat.size} numbers"
                + (f", expected {count * _FOAM_SIZES[kind]} ({kind})" if kind else "")
            )
        return _shape_values(flat, kind, count)
    rest = text[body_start + m.end() :]
    if m[1] == "uniform":
        value = re.match(r"\s*(\([^)]*\)|[^\s;]+)\s*;", rest)
        if value is None:
            raise RansDataError(f"{path}: internalField uniform has no value ending with ';'")
        flat = _parse_numbers(value[1], path, "internalField uniform")
        kind = next((t for t, s in _FOAM_SIZES.items() if s == flat.size), None)
        if hinted and _FOAM_SIZES[hinted] == flat.size:
            kind = hinted
        if kind is None:
            raise RansDataError(
                f"{path}: internalField uniform has {flat.size} components; expected 1, 3, 6 or 9"
            )
        one = _shape_values(flat, kind, 1)[0]
        if n is None:
            return one
        return np.broadcast_to(one, (n, *one.shape)).copy()
    lst = re.match(r"\s*List\s*<\s*(\w+)\s*>\s*(\d+)\s*\(", rest)
    if lst is None:
        if re.match(r"\s*List\s*<\s*\w+\s*>\s*\d+\s*\{", rest):
            raise RansDataError(
                f"{path}: internalField is a uniform list 'N{{value}}': not supported"
            )
        raise RansDataError(f"{path}: internalField nonuniform is not followed by 'List<type> N ('")
    kind, count = lst[1], int(lst[2])
    if kind not in _FOAM_SIZES:
        raise RansDataError(
            f"{path}: internalField List<{kind}> unknown; valid: {', '.join(_FOAM_SIZES)}"
        )
    start = lst.end()
    end = rest.find(";", start)
    if end < 0:
        raise RansDataError(f"{path}: internalField list does not end with ';'")
    body = rest[start:end].rstrip()
    if not body.endswith(")"):
        raise RansDataError(f"{path}: internalField list is not closed with ')' before ';'")
    flat = _parse_numbers(body[:-1], path, "internalField")
    size = _FOAM_SIZES[kind]
    if flat.size != count * size:
        raise RansDataError(
            f"{path}: internalField says {count} {kind} values ({count * size} numbers) but "
            f"holds {flat.size} numbers"
        )
    return _shape_values(flat, kind, count)


_FOAM_BANNER = r"""/*--------------------------------*- C++ -*----------------------------------*\
  =========                 |
  \\      /  F ield         | OpenFOAM field written by flowlearn
   \\    /   O peration     |
    \\  /    A nd           |
     \\/     M anipulation  |
\*---------------------------------------------------------------------------*/
"""


def _fmt(values: np.ndarray) -> list[str]:
    return [" ".join(f"{v:.17g}" for v in row) for row in values]


def write_foam_field(
    path: str | os.PathLike[str],
    values: np.ndarray,
    name: str,
    dimensions: str = "[0 0 0 0 0 0 0]",
    note: str = "",
    overwrite: bool = False,
) -> Path:
    """Write ``values`` as an OpenFOAM ascii field: ``(n,)`` a volScalarField, ``(n, 3)`` a
    volVectorField, ``(n, 3, 3)`` symmetric a volSymmTensorField (xx xy xz yy yz zz).

    ``name`` is the field's object name, ``dimensions`` its OpenFOAM dimension set, ``note``
    goes into a header comment (say the convention and units there). The boundary field is
    ``calculated`` with a zero value on every patch (constraint patches set by OpenFOAM's
    ``setConstraintTypes``). An existing file is replaced only with ``overwrite=True``
    (else :class:`FileExistsError`); the file is written whole or not at all.
    """
    path = Path(path)
    values = np.asarray(values, dtype=np.float64)
    if not re.fullmatch(r"[A-Za-z_][^\s;{}\"/\\]*", name or ""):
        raise RansDataError(f"field name {name!r} is not an OpenFOAM word (no spaces, ;, {{}})")
    if not re.fullmatch(r"\[\s*(-?\d+(\.\d+)?\s+){6}-?\d+(\.\d+)?\s*\]", dimensions):
        raise RansDataError(f"dimensions {dimensions!r}: expected 7 numbers in brackets")
    if values.ndim == 1:
        kind, cls, rows, zero = "scalar", "volScalarField", values[:, None], "0"
    elif values.ndim == 2 and values.shape[1] == 3:
        kind, cls, rows, zero = "vector", "volVectorField", values, "(0 0 0)"
    elif values.ndim == 3 and values.shape[1:] == (3, 3):
        # float32 round-off in a predicted tensor is fine; a gradient (asymmetric) is not
        values = _symmetric(values, path, f"field {name}", rtol=1e-4)
        rows = np.stack([values[:, i, j] for i, j in _SYMM], axis=1)
        kind, cls, zero = "symmTensor", "volSymmTensorField", "(0 0 0 0 0 0)"
    else:
        raise RansDataError(
            f"{path}: values of shape {values.shape}: write_foam_field takes (n,), (n, 3) or "
            "symmetric (n, 3, 3)"
        )
    bad = int((~np.isfinite(rows).all(axis=1)).sum())
    if bad:
        raise RansDataError(f"{path}: field {name}: {bad} of {len(rows)} values are not finite")
    if path.exists() or path.is_symlink():
        if path.is_dir():
            raise RansDataError(f"{path} is a folder: choose a file name")
        if not overwrite:
            raise FileExistsError(f"{path} exists: pass overwrite=True to replace it")
    parts = [_FOAM_BANNER]
    for line in (note or "").splitlines():
        parts.append(f"// {line}\n")
    parts.append(
        "FoamFile\n{\n    version     2.0;\n    format      ascii;\n"
        f"    class       {cls};\n    object      {name};\n}}\n"
        "// * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * * //\n\n"
        f"dimensions      {dimensions};\n\n"
        f"internalField   nonuniform List<{kind}> \n{len(rows)}\n(\n"
    )
    lines = _fmt(rows)
    if kind != "scalar":
        lines = [f"({line})" for line in lines]
    parts.append("\n".join(lines))
    parts.append(
        "\n)\n;\n\nboundaryField\n{\n"
        '    #includeEtc "caseDicts/setConstraintTypes"\n\n'
        f'    ".*"\n    {{\n        type            calculated;\n'
        f"        value           uniform {zero};\n    }}\n}}\n\n"
        "// ************************************************************************* //\n"
    )
    text = "".join(parts)
    write_replacing(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return path


# --------------------------------------------------------------------------------------------
# Pinelli et al.'s square duct, k-omega RANS at Re_b = 3500 (TBRF)

PINELLI_ORIGIN = (
    "https://github.com/mikaelk/TBRF at commit 280240508527d342caef5ad9adb2a7c97ce0ed8f, "
    "turbulenceData/SquareDuct/Re3500_kOmega_50/50000/"
)
PINELLI_FILES = ("U", "k", "omega", "grad(U)", "cellCentres", "R_DNS")


def read_pinelli_rans(folder: str | os.PathLike[str], drop_invalid: bool = False) -> RansFlow:
    """``tbrf_pinelli_duct/rans_kOmega_Re3500/``: k-omega RANS of a square duct at Re_b =
    3500 (OpenFOAM ascii ``U, k, omega, grad(U), cellCentres``) and the DNS stresses of
    Pinelli et al. on the same cells (``R_DNS``). ``grad(U)`` is turned round (OpenFOAM's
    entry ij is dU_j/dx_i). The streamwise axis is the one of the largest mean velocity
    component (``meta["streamwise"]``); the two others have symmetry planes at 0 and walls at
    their far ends, which give ``wall_distance``."""
    folder = Path(folder)
    absent = [f for f in PINELLI_FILES if not (folder / f).is_file()]
    if absent:
        raise FileNotFoundError(f"{folder}: missing file(s) {', '.join(absent)}")
    fields = {f: read_foam_field(folder / f) for f in PINELLI_FILES}
    shapes = {"U": 2, "k": 1, "omega": 1, "grad(U)": 3, "cellCentres": 2, "R_DNS": 3}
    n = fields["k"].shape[0] if fields["k"].ndim == 1 else -1
    for f, ndim in shapes.items():
        if fields[f].ndim != ndim or fields[f].shape[0] != n:
            raise RansDataError(
                f"{folder / f}: shape {fields[f].shape}, expected {n} cells "
                f"({'scalar' if ndim == 1 else 'vector' if ndim == 2 else 'tensor'})"
            )
    u = fields["U"]
    mean = np.abs(np.nanmean(u, axis=0))
    stream = int(np.argmax(mean))
    cross = [a for a in range(3) if a != stream]
    grad = fields["grad(U)"].transpose(0, 2, 1)
    tau = fields["R_DNS"]
    c = fields["cellCentres"]
    k, omega = fields["k"], fields["omega"]
    axes = "xyz"
    walls, how = {}, ""
    wall = None
    if np.isfinite(c).all():
        for a in cross:
            walls[axes[a]], how = _wall_position(c[:, a])
        wall = np.minimum(*(walls[axes[a]] - c[:, a] for a in cross))
    ny = len(np.unique(np.round(c[:, cross[0]], 9)))
    nz = len(np.unique(np.round(c[:, cross[1]], 9)))
    meta = {
        "source": str(folder),
        "files": [str(folder / f) for f in PINELLI_FILES],
        "origin": PINELLI_ORIGIN,
        "inputs": "k-omega RANS (OpenFOAM, TBRF, Kaandorp & Dwight 2020); "
        "epsilon = 0.09 k omega; grad_u = transpose of OpenFOAM's grad(U)",
        "labels": "DNS (Pinelli, Uhlmann, Sekimoto & Kawahara 2010) interpolated to the RANS "
        "cells (R_DNS)",
        "re_b": 3500.0,
        "aspect_ratio": 1.0,
        "streamwise": axes[stream],
        "streamwise_index": stream,
        "mean_velocity": [float(x) for x in np.nanmean(u, axis=0)],
        "walls": walls,
        "wall_placement": how,
        "symmetry_planes": " and ".join(f"{axes[a]} = 0" for a in cross),
        "grid": [ny, nz],
        "grid_dims": [axes[cross[0]], axes[cross[1]]],
        "length_unit": "duct half-width (quarter duct [0, 1]^2)",
        "velocity_unit": "as in the source (dimensionless)",
    }
    return _finish(
        name="duct_pinelli_Reb3500",
        kind="duct",
        source=folder,
        k=k,
        epsilon=C_MU * k * omega,
        grad_u=grad,
        tau=_symmetric(tau, folder / "R_DNS", "R_DNS"),
        coords=c,
        wall_distance=wall,
        meta=meta,
        columns={"k": k, "omega": omega, "grad(U)": grad, "cellCentres": c, "R_DNS": tau},
        positive={"k": k, "omega": omega},
        drop_invalid=drop_invalid,
    )


# --------------------------------------------------------------------------------------------
# flowlearn's own table (CSV or netCDF)

TABLE_MARK = "rans table"
_TABLE_SUFFIXES = (".csv", ".csv.gz", ".nc")


def _table_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".csv.gz"):
        return "csv.gz"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".nc"):
        return "nc"
    raise RansDataError(
        f"{path}: unknown table format; the file must end in {', '.join(_TABLE_SUFFIXES)}"
    )


def _read_netcdf(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    import xarray as xr

    _require_file(path)
    try:
        with xr.open_dataset(path) as ds:
            attrs = dict(ds.attrs)
            columns = {}
            for var in ds.data_vars:
                da = ds[var]
                if da.dims != ("cell",):
                    raise RansDataError(
                        f"{path}: variable {var} has dimensions {da.dims}, expected ('cell',)"
                    )
                columns[str(var)] = np.asarray(da.values, dtype=np.float64)
            for coord in ds.coords:
                if ds[coord].dims == ("cell",) and str(coord) not in columns and coord != "cell":
                    columns[str(coord)] = np.asarray(ds[coord].values, dtype=np.float64)
    except (OSError, ValueError, TypeError) as err:
        if isinstance(err, RansDataError):
            raise
        raise RansDataError(f"{path}: not a readable netCDF file ({err})") from None
    return attrs, columns


def _comment_fields(comments: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for line in comments:
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or key not in ("name", "kind", "meta", "dropped"):
            continue
        found[key] = value.strip()
    return found


def read_table(path: str | os.PathLike[str], drop_invalid: bool = False) -> RansFlow:
    """A flow in flowlearn's table schema (module docstring): CSV (``.csv``, ``.csv.gz``) or
    netCDF (``.nc``)."""
    path = Path(path)
    fmt = _table_format(path)
    if fmt == "nc":
        attrs, cols = _read_netcdf(path)
        stored = {k: attrs[k] for k in ("name", "kind", "meta", "dropped") if k in attrs}
    else:
        comments, cols = _read_csv(path)
        stored = _comment_fields(comments)
    try:
        meta = json.loads(stored["meta"]) if "meta" in stored else {}
        prior_dropped = json.loads(stored["dropped"]) if "dropped" in stored else {}
    except ValueError as err:
        raise RansDataError(f"{path}: its meta / dropped header is not JSON ({err})") from None
    if not isinstance(meta, dict) or not isinstance(prior_dropped, dict):
        raise RansDataError(f"{path}: its meta / dropped header is not a JSON object")
    name = str(stored.get("name") or path.name.split(".")[0])
    kind = str(stored.get("kind") or "custom")
    if kind not in KINDS:
        raise RansDataError(f"{path}: kind {kind!r} unknown; valid: {', '.join(KINDS)}")
    missing = [c for c in ("k", *GRAD_COLUMNS) if c not in cols]
    has_eps, has_omega = "epsilon" in cols, "omega" in cols
    if not has_eps and not has_omega:
        missing.insert(1, "epsilon (or omega)")
    if missing:
        raise _missing_columns(path, missing, cols)
    if has_eps and has_omega:
        raise RansDataError(
            f"{path}: both epsilon and omega columns: keep exactly one (epsilon, or omega "
            "for epsilon = 0.09 k omega)"
        )
    for group, what in ((COORD_COLUMNS, "coordinates"), (LABEL_COLUMNS, "labels")):
        present = [c for c in group if c in cols]
        if present and len(present) != len(group):
            raise RansDataError(
                f"{path}: {what} need all of {', '.join(group)} or none: missing column(s) "
                f"{', '.join(c for c in group if c not in cols)}"
            )
    known = {"k", "epsilon", "omega", "wall_distance", *COORD_COLUMNS, *GRAD_COLUMNS,
             *LABEL_COLUMNS}  # fmt: skip
    ignored = [c for c in cols if c not in known]
    n = len(cols["k"])
    k = cols["k"]
    grad = np.stack([cols[c] for c in GRAD_COLUMNS], axis=1).reshape(n, 3, 3)
    tau = None
    if "uu" in cols:
        tau = np.zeros((n, 3, 3))
        for c, (i, j) in zip(LABEL_COLUMNS, _LABEL_INDEX, strict=True):
            tau[:, i, j] = tau[:, j, i] = cols[c]
    coords = np.stack([cols[c] for c in COORD_COLUMNS], axis=1) if "x" in cols else None
    wall = cols.get("wall_distance")
    second = "epsilon" if has_eps else "omega"
    epsilon = cols["epsilon"] if has_eps else C_MU * k * cols["omega"]
    if meta.get("source") not in (None, str(path)):
        meta["written_from"] = meta["source"]
    meta["source"] = str(path)
    if has_omega:
        meta["inputs"] = (str(meta.get("inputs", "")) + "; " if meta.get("inputs") else "") + (
            "epsilon = 0.09 k omega (from the omega column)"
        )
    meta.setdefault("inputs", "table columns k, epsilon, dU?d?")
    if ignored:
        meta["ignored_columns"] = ignored
    used = [c for c in cols if c in known]
    return _finish(
        name=name,
        kind=kind,
        source=path,
        k=k,
        epsilon=epsilon,
        grad_u=grad,
        tau=tau,
        coords=coords,
        wall_distance=wall,
        meta=meta,
        columns={c: cols[c] for c in used},
        positive={"k": k, second: cols[second]},
        drop_invalid=drop_invalid,
        dropped={str(a): int(b) for a, b in prior_dropped.items()},
    )


def _table_columns(flow: RansFlow) -> dict[str, np.ndarray]:
    cols: dict[str, np.ndarray] = {}
    if flow.coords is not None:
        for a, c in enumerate(COORD_COLUMNS):
            cols[c] = flow.coords[:, a]
    if flow.wall_distance is not None:
        cols["wall_distance"] = flow.wall_distance
    cols["k"] = flow.k
    cols["epsilon"] = flow.epsilon
    for idx, c in enumerate(GRAD_COLUMNS):
        cols[c] = flow.grad_u[:, idx // 3, idx % 3]
    if flow.tau is not None:
        for c, (i, j) in zip(LABEL_COLUMNS, _LABEL_INDEX, strict=True):
            cols[c] = flow.tau[:, i, j]
    return {c: np.asarray(v, dtype=np.float64) for c, v in cols.items()}


def write_table(flow: RansFlow, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Write ``flow`` in flowlearn's table schema (module docstring): CSV (``.csv``,
    ``.csv.gz``) or netCDF (``.nc``), with epsilon (never omega), values to 17 significant
    digits. An existing file is replaced only with ``overwrite=True`` (else
    :class:`FileExistsError`); the file is written whole or not at all."""
    path = Path(path)
    fmt = _table_format(path)
    if path.exists() or path.is_symlink():
        if path.is_dir():
            raise RansDataError(f"{path} is a folder: choose a file name")
        if not overwrite:
            raise FileExistsError(f"{path} exists: pass overwrite=True to replace it")
    cols = _table_columns(flow)
    meta_json = json.dumps(_jsonable(flow.meta), sort_keys=True)
    dropped_json = json.dumps(_jsonable(flow.dropped), sort_keys=True)
    if fmt == "nc":
        import xarray as xr

        from flowlearn.safety import MARK

        ds = xr.Dataset(
            {c: ("cell", v) for c, v in cols.items()},
            attrs={
                MARK: TABLE_MARK,
                "name": flow.name,
                "kind": flow.kind,
                "meta": meta_json,
                "dropped": dropped_json,
                "conventions": "flowlearn RANS table: dUidxj = dU_i/dx_j; uu..ww = <u_i' u_j'>",
            },
        )
        write_replacing(path, lambda tmp: ds.to_netcdf(tmp))
        return path
    header = (
        "# flowlearn RANS table (schema: flowlearn.data.rans): dUidxj = dU_i/dx_j, "
        "uu..ww = <u_i' u_j'>\n"
        f"# flowlearn_output: {TABLE_MARK}\n"
        f"# name: {flow.name}\n"
        f"# kind: {flow.kind}\n"
        f"# meta: {meta_json}\n"
        f"# dropped: {dropped_json}\n"
    )
    data = np.stack(list(cols.values()), axis=1)
    buf = io.StringIO()
    buf.write(header)
    buf.write(",".join(cols) + "\n")
    np.savetxt(buf, data, delimiter=",", fmt="%.17g")
    body = buf.getvalue().encode("utf-8")
    if fmt == "csv.gz":
        body = gzip.compress(body, mtime=0)
    write_replacing(path, lambda tmp: Path(tmp).write_bytes(body))
    return path


# --------------------------------------------------------------------------------------------
# Named flows: where they are, their digests, their downloads


@dataclass(frozen=True)
class FlowSpec:
    """A named flow: its sub-folder of the RANS data, its files (path in the sub-folder ->
    sha256 of the bytes), where each can be downloaded (None: it cannot) and the reader."""

    name: str
    folder: str
    files: dict[str, str]
    read: Callable[[Path, bool], RansFlow]
    urls: dict[str, str] | None
    origin: str

    @property
    def downloadable(self) -> bool:
        return bool(self.urls)


_RAW = "https://raw.githubusercontent.com"
_HOYAS_COMMIT = "fed9eca03e59478cfe17bd4b62d529545fba372a"
_SANDIA_COMMIT = "701d57e402f268da047435b0a842e18689f74e14"
_TBRF_COMMIT = "280240508527d342caef5ad9adb2a7c97ce0ed8f"
_TBRF_FOLDER = "turbulenceData/SquareDuct/Re3500_kOmega_50/50000"


def _raw_url(repo: str, commit: str, path: str) -> str:
    return f"{_RAW}/{repo}/{commit}/{urllib.parse.quote(path)}"


_MCCONKEY_DIGESTS = {
    "duct_AR_1_Ret_180": "22a386fbf16a7efc07df5e38ea1b073ad39207616eb6253b036dafed20994dcb",
    "duct_AR_1_Ret_360": "1610172547e6f9cc9caefcb196938f10a7ab52e8a3baedd5cc0097d65f4c5db3",
    "duct_AR_3_Ret_180": "c4f034b7ab99863382fef889ad7dd4f352a068e91986856e9db147f15328a1ab",
    "duct_AR_3_Ret_360": "0f4d71963434cf26681df3a17fb692c67ac765c3a2617903aae651484457f1fd",
    "duct_AR_5_Ret_180": "ddd2e4df96ed6773136a746dd828a0e389a5aaa26967506f540a591b799258a7",
    "duct_AR_7_Ret_180": "774ad7809d2a47db5bca82cde20f22ece466e25017d584413e6f0511f7230b8a",
    "duct_AR_10_Ret_180": "0d5f4355b0d9203a5313695e9ffeeceb591aa19ff584da15892afc1ff6e413dc",
    "duct_AR_14_Ret_180": "9657cdfca0209af5b0a6b6132704ef438aeb996c6d11fa497686ad317f941e3d",
    "periodic_hill_Re10595": "5bbfbefc0a9bb245ec1d47c0e872244605f2e6b4f3018a39f3fbf4a5ecb150a3",
}
_HOYAS_DIGESTS = {
    180: (
        "fc542fd7ae2b7d92dbb4cee58ac1cac7b942c1eac30b916f2086dd46cbfed249",
        "89af36b16533186d2421fb3f80cf7333946258785c40485f02b1686719654fba",
    ),
    550: (
        "749324ca2317df49709463b350ea63da54334a19b6a81390a2a077e8441c62a8",
        "081384dfe33e22fc3713708e60503a6640d9648523c017bd06b2d6e32ea62467",
    ),
    2000: (
        "fa52706c366186f48bb75efe6e363243f3f5037f10c8af2ede6c5eb120626050",
        "356f4673582e66bf3d474fdd8b5cf32f3d897b3d6824852527761034ec9e2360",
    ),
}
_PINELLI_DIGESTS = {
    "U": "583a5a4e8813963ff8ca42acb90199f6a3b67aee4c3637cd666bb8cf4defee62",
    "k": "fc9338dbb4bdd7d0a43cddbf4b82be1fc37078c729e81dc06ef2bdd858565b0d",
    "omega": "078dac69d21099f5108e6d78723daea23511a366c700121a7fdc9414372c5eff",
    "grad(U)": "4767493b8abc9960e180355467b5bfbf97a971fcd827bb6c5f5bc539d5e863cc",
    "cellCentres": "7ea8feff8588887ee56b96f8efeec40091757c3d569a777ad690b1058b711fc3",
    "R_DNS": "80fbda63e2dffbddfafb0ea075e94d0b1a3e8471243ce217d427719b9d367dc4",
}


def _registry() -> dict[str, FlowSpec]:
    flows: dict[str, FlowSpec] = {}
    for re_tau, (prof, mat) in _HOYAS_DIGESTS.items():
        files = {f"Re{re_tau}.prof": prof, f"kepsilon_rans/kepsilon_{re_tau}.mat": mat}
        repo = "AlbertoCuadra/RANS_turbulent_channel_flow"
        urls = {
            f"Re{re_tau}.prof": _raw_url(
                repo, _HOYAS_COMMIT, f"databases/Re{re_tau}/profiles/Re{re_tau}.prof"
            ),
            f"kepsilon_rans/kepsilon_{re_tau}.mat": _raw_url(
                repo,
                _HOYAS_COMMIT,
                f"databases/results numerical simulation/kepsilon_{re_tau}.mat",
            ),
        }
        name = f"channel_Re{re_tau}"
        flows[name] = FlowSpec(
            name=name,
            folder="hoyas_jimenez_channel",
            files=files,
            read=lambda folder, drop, r=re_tau: read_hoyas_channel(
                folder, r, inputs="rans", drop_invalid=drop
            ),
            urls=urls,
            origin=HOYAS_ORIGIN,
        )
    flows["channel_Re590"] = FlowSpec(
        name="channel_Re590",
        folder="tbnn_sandia",
        files={"channel.txt": "d946b31840dbfd0933ccccb303bde703f419cdf82341b92e2610a4e479f6617e"},
        read=lambda folder, drop: read_sandia_channel(folder / "channel.txt", drop),
        urls={
            "channel.txt": _raw_url(
                "sandialabs/tbnn", _SANDIA_COMMIT, "examples/turbulence/channel.txt"
            )
        },
        origin=f"https://github.com/sandialabs/tbnn at commit {_SANDIA_COMMIT}",
    )
    for stem, digest in _MCCONKEY_DIGESTS.items():
        m = _MCCONKEY_NAME.fullmatch(stem)
        name = f"duct_AR{m[1]}_Re{m[2]}" if m else "hill_Re10595"
        file = f"{stem}.csv.gz"
        flows[name] = FlowSpec(
            name=name,
            folder="mcconkey_benchmark",
            files={file: digest},
            read=lambda folder, drop, f=file: read_mcconkey(folder / f, drop),
            urls=None,
            origin=MCCONKEY_ORIGIN,
        )
    flows["duct_pinelli_Reb3500"] = FlowSpec(
        name="duct_pinelli_Reb3500",
        folder="tbrf_pinelli_duct/rans_kOmega_Re3500",
        files=dict(_PINELLI_DIGESTS),
        read=lambda folder, drop: read_pinelli_rans(folder, drop),
        urls={
            f: _raw_url(
                "mikaelk/TBRF",
                _TBRF_COMMIT,
                f"turbulenceData/SquareDuct/Re3500_kOmega_50/50000/{f}",
            )
            for f in _PINELLI_DIGESTS
        },
        origin=PINELLI_ORIGIN,
    )
    return flows


#: The named flows (module docstring), by name.
FLOWS: dict[str, FlowSpec] = _registry()


def _spec(name: str) -> FlowSpec:
    if name not in FLOWS:
        raise KeyError(f"unknown flow {name!r}; valid names: {', '.join(FLOWS)}")
    return FLOWS[name]


def repo_rans_dir() -> Path:
    """``<repo>/../shared/data/rans``: a development checkout's reference data."""
    return Path(__file__).resolve().parents[4] / "shared" / "data" / "rans"


def download_root() -> Path:
    """Where :func:`download` writes by default: ``<cache>/rans``."""
    return cache_dir() / "rans"


def candidate_dirs(name: str, data_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """The folders where flow ``name``'s files are looked for, in order (module docstring)."""
    spec = _spec(name)
    found: list[Path] = []
    if data_dir is not None:
        d = Path(data_dir)
        found += [d / spec.folder, d / "rans" / spec.folder, d]
    env = os.environ.get("FLOWLEARN_DATA")
    if env:
        found.append(Path(env) / "rans" / spec.folder)
    found += [repo_rans_dir() / spec.folder, download_root() / spec.folder]
    return list(dict.fromkeys(found))


def find_flow(name: str, data_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The first folder of :func:`candidate_dirs` holding all of flow ``name``'s files."""
    spec = _spec(name)
    for folder in candidate_dirs(name, data_dir):
        if all((folder / f).is_file() for f in spec.files):
            return folder
    return None


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes (as ``sha256sum`` prints it)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def verify_file(path: Path, expected: str) -> None:
    """:class:`DigestMismatchError` naming ``path`` and both digests unless its sha256 is
    ``expected``."""
    found = sha256_file(path)
    if found != expected:
        raise DigestMismatchError(
            f"{path}: sha256 is {found}, expected {expected}: the file is corrupted, truncated "
            "or not the right one; replace it with a good copy (or delete it and download it "
            "again where the flow can be downloaded)"
        )


def _fetch(url: str, expected: str, target: Path, opener: Opener) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        log.info("downloading %s", url)
        h = hashlib.sha256()
        with opener(url, timeout=DOWNLOAD_TIMEOUT_S) as response, open(tmp, "wb") as out:
            while chunk := response.read(1 << 20):
                h.update(chunk)
                out.write(chunk)
        found = h.hexdigest()
        if found != expected:
            raise DigestMismatchError(
                f"{url}: sha256 of the downloaded bytes is {found}, expected {expected}: not "
                f"written to {target}"
            )
        os.replace(tmp, target)
    except (OSError, urllib.error.URLError) as err:
        raise DataNotFoundError(f"could not download {url} into {target}: {err}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _not_downloadable(spec: FlowSpec) -> str:
    files = ", ".join(spec.files)
    return (
        f"{spec.name} cannot be downloaded: flowlearn reads {files}, a gzip CSV converted "
        f"from OpenFOAM originals (one row per cell, '#' header lines, columns x,y,z, "
        f"<field>_rans, <field>_dns|_les, dU?d?_rans; schema in mcconkey_benchmark/README.md of "
        f"flowlearn's reference data). The originals are at {spec.origin}. Put the converted "
        f"folder {spec.folder}/ under a folder you pass as data_dir (or $FLOWLEARN_DATA/rans)"
    )


def download(
    name: str, dest: str | os.PathLike[str] | None = None, opener: Opener | None = None
) -> Path:
    """Download flow ``name``'s files from their pinned commits into ``dest/<sub-folder>``
    (default ``<cache>/rans``), each checked against its sha256 and written whole (a temporary
    file moved into place) or not at all; files already there and good are kept. Returns the
    folder holding the files. ``opener(url, timeout=...)`` opens URLs
    (``urllib.request.urlopen``; tests pass a fake)."""
    spec = _spec(name)
    if not spec.urls:
        raise DataNotFoundError(_not_downloadable(spec))
    opener = opener or urllib.request.urlopen
    root = Path(dest) if dest is not None else download_root()
    folder = root / spec.folder
    ours = dest is None
    for file, digest in spec.files.items():
        target = folder / file
        if target.is_file():
            try:
                verify_file(target, digest)
                continue
            except DigestMismatchError:
                if not ours:
                    raise
                log.warning("%s is corrupted: downloading it again", target)
        _fetch(spec.urls[file], digest, target, opener)
    return folder


def load_flow(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    drop_invalid: bool = False,
    verify: bool = True,
    download: bool = False,
    opener: Opener | None = None,
) -> RansFlow:
    """The named flow ``name`` (:data:`FLOWS`), read from the first folder holding its files
    (module docstring), every file checked against its sha256 when ``verify``.

    Not found: with ``download=True`` a downloadable flow is fetched into the cache, else
    :class:`~flowlearn.data.mnist.DataNotFoundError` says where flowlearn looked and where the
    data come from. An unknown name is a :class:`KeyError` listing the valid ones.
    """
    spec = _spec(name)
    folder = find_flow(name, data_dir)
    if folder is None:
        if download and spec.downloadable:
            folder = _download_flow(name, opener=opener)
        else:
            looked = "\n  ".join(str(p) for p in candidate_dirs(name, data_dir))
            how = (
                _not_downloadable(spec)
                if not spec.downloadable
                else f"Get it with load_flow({name!r}, download=True) or "
                f"flowlearn.data.rans.download({name!r}) (from {spec.origin})"
            )
            raise DataNotFoundError(
                f"{name} not found: no folder holds its files ({', '.join(spec.files)}). "
                f"Looked in:\n  {looked}\n{how}"
            )
    if verify:
        for file, digest in spec.files.items():
            verify_file(folder / file, digest)
    return spec.read(folder, drop_invalid)


_download_flow = download
