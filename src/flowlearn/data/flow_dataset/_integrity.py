"""Every stored sample read back and checked: checksums, chunk files, physical values."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flowlearn.data import sample_store
from flowlearn.data.flow_dataset._spec import (
    GRID_VARS,
    OK,
    STATUS_NAMES,
    DatasetError,
    FlowDatasetSpec,
)
from flowlearn.data.flow_dataset._store import _group

#: Physical bounds a stored sample must keep (dimensionless: units of U and rho U^2). Steady
#: flows at Re 3-70 in these channels stay within a few U and a few hundred rho U^2; the bounds
#: are wide so that only damage, not physics, can cross them.
MAX_SPEED = 100.0


MAX_PRESSURE = 1e6


#: The inlet column's mean u is U by definition; its error on a saved sample is round-off.
INLET_TOLERANCE = 0.1


@dataclass
class Integrity:
    """What :func:`verify` found: ``checked`` stored samples read back, the damaged ones
    ``{index: reason}``, and whether the store seals its chunks with checksums."""

    path: Path
    samples: int
    checked: int
    corrupt: dict[int, str]
    checksummed: bool
    codes: np.ndarray

    @property
    def intact(self) -> bool:
        return not self.corrupt


def _physical(name: str, values: np.ndarray, mask: np.ndarray, grid: tuple[int, int]):
    """Per-sample reason a stored grid variable is not physical ('' when it is)."""
    nx, ny = grid
    flat = values.reshape(len(values), nx * ny).astype(np.float64)
    solid = mask.reshape(len(mask), nx * ny).astype(bool)
    finite = np.isfinite(flat).all(axis=1)
    flat = np.where(np.isfinite(flat), flat, 0.0)
    why = np.where(finite, "", f"{name}: not finite").astype(object)

    def bad(cond, text):
        nonlocal why
        why = np.where((why == "") & cond, f"{name}: {text}", why)

    if name == "sdf":
        bad(np.abs(flat).max(axis=1) > math.hypot(nx, ny), "beyond the channel's diagonal")
        bad(~(flat < 0).any(axis=1), "no body (no negative distance)")
    elif name == "mask":
        bad(~np.isin(flat, (0, 1)).all(axis=1), "values other than 0 and 1")
        bad(~solid.any(axis=1), "no solid cell")
    else:
        limit = MAX_PRESSURE if name == "p" else MAX_SPEED
        bad(np.abs(flat).max(axis=1) > limit, f"|{name}| above {limit:g}")
        bad((np.abs(flat) * solid).max(axis=1) > 0, "non-zero inside the body")
        bad(~(flat != 0).any(axis=1), "zero everywhere")
        if name == "u":
            inlet = values[:, :, 0].astype(np.float64).mean(axis=1)
            bad(np.abs(inlet - 1.0) > INLET_TOLERANCE, "mean inlet velocity is not U")
    return why


def verify(
    path: str | Path, *, progress: Callable[[str], None] | None = None, values: bool = True
) -> Integrity:
    """Read back every sample of the dataset at ``path`` and check it.

    A status must read back intact and be a known code; a stored (ok) sample must have every
    chunk on disk, read back intact (CRC32C, where the store has them) and be physical
    (:func:`_physical`; Re inside the spec's range, finite coefficients). ``values=False``
    checks statuses and chunk files only. Damaged samples are returned, never raised.
    """
    path = Path(path)
    group = _group(path)
    spec = FlowDatasetSpec.from_attrs(dict(group.attrs))
    say = progress or (lambda _: None)
    corrupt: dict[int, str] = {}
    say("statuses")
    codes, bad = sample_store.read_checked(group["status"])
    corrupt.update(bad)
    unknown = ~np.isin(codes, list(STATUS_NAMES))
    corrupt.update({int(i): f"status: unknown code {codes[i]}" for i in np.flatnonzero(unknown)})
    ok = np.flatnonzero((codes == OK) & ~np.isin(np.arange(len(codes)), list(corrupt)))
    # A stored sample's grid variables never equal their fill value (NaN, or a mask with no
    # solid), so their chunks must all be on disk; a missing scalar reads NaN, checked below.
    for name in GRID_VARS:
        for i in sample_store.missing_chunks(path, group[name], ok):
            corrupt.setdefault(i, f"{name}: chunk file missing")
    if values:
        mask, bad = sample_store.read_checked(group["mask"], ok)
        corrupt.update({k: v for k, v in bad.items() if k not in corrupt})
        for name in GRID_VARS:
            say(name)
            data = mask if name == "mask" else None
            if data is None:
                data, bad = sample_store.read_checked(group[name], ok)
                for k, v in bad.items():
                    corrupt.setdefault(k, v)
            for i, why in zip(ok, _physical(name, data, mask, spec.grid), strict=True):
                if why:
                    corrupt.setdefault(int(i), why)
        say("scalars")
        lo, hi = spec.re
        scalar_rules = {
            "re": lambda r: np.isfinite(r) & (r >= lo * (1 - 1e-9)) & (r <= hi * (1 + 1e-9)),
            "family": lambda f: (f >= 0) & (f < len(spec.families)),
            "cd": np.isfinite,
            "cl": np.isfinite,
            "steps": lambda s: np.isfinite(s) & (s >= 1),
            "ref_length": lambda r: np.isfinite(r) & (r > 0),
        }
        for name, rule in scalar_rules.items():
            data, bad = sample_store.read_checked(group[name], ok)
            for k, v in bad.items():
                corrupt.setdefault(k, v)
            for i in ok[~rule(data.astype(np.float64))]:
                corrupt.setdefault(int(i), f"{name}: {data[ok == i][0]!r} is not valid")
    return Integrity(
        path=path,
        samples=len(codes),
        checked=len(ok),
        corrupt=dict(sorted(corrupt.items())),
        checksummed=sample_store.has_checksums(group),
        codes=codes,
    )


def add_checksums(path: str | Path) -> Integrity:
    """Seal a dataset written before checksums: every sample is verified first (values
    included), and only an intact store is rewritten, under its lock. Returns the check of
    the sealed store."""
    path = Path(path)
    with sample_store.store_lock(path, "sealing"):
        before = verify(path)
        if before.checksummed:
            return before
        if before.corrupt:
            raise DatasetError(
                f"{path}: {len(before.corrupt)} stored sample(s) fail the check "
                f"({sample_store.indices_text(before.corrupt)}); recompute them with "
                "`flowlearn dataset generate` before adding checksums"
            )
        sample_store.rewrite_with_checksums(path)
    return verify(path)
