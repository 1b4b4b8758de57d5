"""A solver's state on disk: save a developed flow once, continue it exactly later.

:func:`save_state` writes the populations (ghost layers included), the step counter and the
convective outlets' last values, the only state a :class:`~flowlearn.physics.lbm.Solver`
carries beyond its set-up, to one ``.npz`` file with a SHA-256 per array and a *signature* of
the set-up (grid, lattice, real type, viscosity, collision, boundaries, the flags and links).
:func:`load_state` refuses a file saved from another set-up (it says what differs), a damaged
one (the array whose checksum fails) and a file flowlearn did not write; a run continued from a
loaded state is step for step the run that was saved (tests/physics/test_lbm_state.py).

The set-up itself (the body, the boundaries) is not pickled: the caller builds the same case
again (``cases.schafer_turek(re=100, ...)``) and loads the state into it, so a state file holds
numbers only and loads without executing anything.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from flowlearn.safety import MARK, OutputError, check_target, write_replacing
from flowlearn.safety.memory import require_memory

if TYPE_CHECKING:
    from flowlearn.physics.lbm.solver import Solver

#: The kind of output a state file is (the mark of :mod:`flowlearn.safety.outputs`).
STATE_KIND = "lbm state"
#: Bump when the layout of a state file changes.
STATE_VERSION = 1


class StateError(ValueError):
    """A state file that cannot be loaded into this solver; the message says why."""


def _digest(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def signature(solver: Solver) -> dict[str, Any]:
    """What must be equal for a state to continue on ``solver``: the set-up, not the flow."""
    links = [
        {"name": s.name, "kind": s.kind, "links": len(s.dirs), "index": _digest(s.index)}
        for s in solver.link_sets
        if not s.kind.startswith("convective")  # their index arrays also hold flow values
    ]
    return {
        "grid": list(solver.grid),
        "stencil": solver.stencil,
        "dtype": solver.dtype,
        "nu": float(solver.nu),
        "collision": solver.collision.name,
        "rates": {k: float(v) for k, v in solver.rates.items()},
        "compressible": bool(solver.compressible),
        "periodic": list(solver.periodic),
        "force": None if solver.force is None else list(solver.force),
        "flags": _digest(solver.flags),
        "links": links,
    }


def _arrays(solver: Solver) -> dict[str, np.ndarray]:
    arrays = {"pdfs": np.ascontiguousarray(solver.src)}
    for k, s in enumerate(solver.link_sets):
        if s.kind.startswith("convective"):
            arrays[f"link{k}_pdf"] = np.ascontiguousarray(s.index["pdf"])
            arrays[f"link{k}_pdf_nd"] = np.ascontiguousarray(s.index["pdf_nd"])
    return arrays


def save_state(
    solver: Solver,
    path: str | os.PathLike[str],
    *,
    attrs: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``solver``'s state to ``path`` (``.npz``), replacing it only if it is a flowlearn
    LBM state (or ``overwrite`` and a file); ``attrs``: JSON-able notes kept with it (the case's
    parameters). Written to a hidden sibling first, so an interrupted save leaves the previous
    file whole."""
    from flowlearn import __version__

    path = Path(path)
    check_target(path, what="LBM state", kind=STATE_KIND, suffixes=(".npz",), overwrite=overwrite)
    arrays = _arrays(solver)
    meta = {
        MARK: STATE_KIND,
        "state_version": STATE_VERSION,
        "flowlearn_version": __version__,
        "time": int(solver.time),
        "signature": signature(solver),
        "sha256": {name: _digest(a) for name, a in arrays.items()},
        "attrs": attrs or {},
    }
    blob = np.array(json.dumps(meta))

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:  # a file object: numpy adds no suffix of its own
            np.savez(fh, meta=blob, **arrays)

    return write_replacing(path, write)


def read_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata of the state file at ``path``; :class:`StateError` if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise StateError(f"no LBM state at {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"])) if "meta" in z.files else {}
    except (OSError, ValueError, KeyError) as exc:
        raise StateError(f"{path} is not a readable .npz file: {exc}") from None
    if meta.get(MARK) != STATE_KIND:
        raise StateError(f"{path} is not a flowlearn LBM state (save one with save_state)")
    if meta.get("state_version") != STATE_VERSION:
        raise StateError(
            f"{path} is an LBM state of layout {meta.get('state_version')}; this flowlearn "
            f"reads layout {STATE_VERSION}"
        )
    return meta


def _differences(saved: dict[str, Any], here: dict[str, Any]) -> list[str]:
    out = []
    for key in sorted(set(saved) | set(here)):
        a, b = saved.get(key), here.get(key)
        if a == b:
            continue
        if key in ("flags", "links"):
            out.append(f"{key} (the bodies or boundaries differ)")
        else:
            out.append(f"{key} {a} saved, {b} here")
    return out


def load_state(solver: Solver, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load the state at ``path`` into ``solver``, built with the same set-up as the one that
    saved it; returns the ``attrs`` saved with it. :class:`StateError` names what differs in
    the set-up, or the array whose checksum fails; nothing is changed in ``solver`` then."""
    path = Path(path)
    meta = read_meta(path)
    diff = _differences(meta["signature"], signature(solver))
    if diff:
        raise StateError(
            f"{path} was saved from another set-up: {'; '.join(diff)}. Build the same case "
            "(grid, Reynolds number, body, lattice velocity, real type) and load it there"
        )
    require_memory(path.stat().st_size, f"reading the LBM state {path.name}", "free memory")
    arrays: dict[str, np.ndarray] = {}
    with np.load(path, allow_pickle=False) as z:
        for name, digest in meta["sha256"].items():
            if name not in z.files:
                raise StateError(f"{path} is damaged: the array {name!r} is missing")
            a = z[name]
            if _digest(a) != digest:
                raise StateError(
                    f"{path} is damaged: the checksum of {name!r} does not match; save it again"
                )
            arrays[name] = a
    if arrays["pdfs"].shape != solver.src.shape:
        raise StateError(
            f"{path}: populations of shape {arrays['pdfs'].shape}, this solver's are "
            f"{solver.src.shape}"
        )
    solver.src[...] = arrays["pdfs"]
    solver.dst[...] = arrays["pdfs"]
    for k, s in enumerate(solver.link_sets):
        if s.kind.startswith("convective"):
            s.index["pdf"] = arrays[f"link{k}_pdf"]
            s.index["pdf_nd"] = arrays[f"link{k}_pdf_nd"]
    solver.time = int(meta["time"])
    return dict(meta.get("attrs") or {})


__all__ = [
    "STATE_KIND",
    "STATE_VERSION",
    "OutputError",
    "StateError",
    "load_state",
    "read_meta",
    "save_state",
    "signature",
]
