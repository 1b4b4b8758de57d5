"""Output places checked before computing, and files replaced only when that is safe.

Every file flowlearn writes for a user carries a mark that says it is a flowlearn output and of
which kind (``flowlearn_output = "flow field"`` in netCDF / Zarr attributes, a header line in
VTK, a text chunk in PNG, a key in JSON, a metadata entry in ONNX). The rules:

- an output place is checked before any computation: known suffix, an existing folder that
  this process can write into (a real probe file, not a permission guess);
- a missing target is written; an existing target is replaced only if it carries the mark of
  the same kind, or if the user asked (``overwrite``) and it is a file;
- a folder that is not a flowlearn output of the same kind is never removed, asked or not;
- replacing writes a hidden sibling first and moves it into place, so a run killed while
  writing leaves the previous file whole.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: Attribute (netCDF, Zarr), key (JSON, ONNX metadata, PNG text) naming a flowlearn output.
MARK = "flowlearn_output"
#: First characters of the title line of a legacy VTK file flowlearn wrote.
VTK_TITLE = "flowlearn_output"


class OutputError(ValueError):
    """An output place that cannot or must not be written; the message says why and what to do."""


# --------------------------------------------------------------------------------------------
# Reading the mark


def _zarr_attrs(path: Path) -> dict[str, Any]:
    for meta, key in (("zarr.json", "attributes"), (".zattrs", None)):
        try:
            body = json.loads((path / meta).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        return (body.get(key) if key else body) or {}
    return {}


def _netcdf_attrs(path: Path) -> dict[str, Any]:
    try:
        import netCDF4

        with netCDF4.Dataset(path) as nc:
            return {k: nc.getncattr(k) for k in nc.ncattrs()}
    except (OSError, ValueError, ImportError):
        return {}


def _head(path: Path, n: int = 512) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except OSError:
        return b""


def output_kind(path: str | os.PathLike[str]) -> str | None:
    """The kind of flowlearn output at ``path`` ("flow field", "prediction", ...), or None if
    it is not one (or cannot be read). Outputs of earlier versions that carried no mark are
    recognised by the attributes they did carry: a flow field's ``solver = "flowlearn ..."``."""
    path = Path(path)
    suffix = path.suffix.lower()
    attrs: dict[str, Any] = {}
    if path.is_dir():
        if suffix != ".zarr":
            return None
        attrs = _zarr_attrs(path)
    elif not path.is_file():
        return None
    elif suffix in (".nc", ".nc4", ".netcdf"):
        attrs = _netcdf_attrs(path)
    elif suffix == ".vtk":
        lines = _head(path).split(b"\n")
        title = lines[1].decode("latin-1") if len(lines) > 1 else ""
        if title.startswith(VTK_TITLE + ": "):
            return title[len(VTK_TITLE) + 2 :].split(";")[0].strip() or None
        return None
    elif suffix == ".vti":
        head = _head(path).decode("latin-1")
        start = head.find(f"<!-- {MARK}: ")
        if start < 0:
            return None
        return head[start + len(MARK) + 7 :].split(" -->")[0].strip() or None
    elif suffix == ".png":
        try:
            from PIL import Image

            with Image.open(path) as img:
                attrs = dict(getattr(img, "text", {}) or {})
        except (OSError, ValueError, ImportError):
            return None
    elif suffix == ".json":
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        attrs = body if isinstance(body, dict) else {}
    elif suffix == ".npz":  # an LBM state: a JSON "meta" entry, read without the arrays
        try:
            import numpy as np

            with np.load(path, allow_pickle=False) as z:
                attrs = json.loads(str(z["meta"])) if "meta" in z.files else {}
        except Exception:  # any unreadable file is simply not ours
            return None
        attrs = attrs if isinstance(attrs, dict) else {}
    elif suffix == ".onnx":
        try:
            import onnx

            model = onnx.load(str(path), load_external_data=False)
            attrs = {p.key: p.value for p in model.metadata_props}
        except Exception:  # any unreadable file is simply not ours
            return None
    kind = attrs.get(MARK)
    if isinstance(kind, str) and kind:
        return kind
    # outputs of versions before the mark
    if str(attrs.get("solver", "")).startswith("flowlearn"):
        return "flow field"
    if "fingerprint" in attrs and "generator_version" in attrs:
        return "dataset"
    return None


# --------------------------------------------------------------------------------------------
# Checking places before computing


def _probe(folder: Path, what: str) -> None:
    """Create and remove a file in ``folder``: the only test that root, ACLs, read-only mounts
    and full disks all answer truthfully."""
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".flowlearn-probe-")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputError(f"{what}: cannot write into the folder {folder} ({reason})") from None
    os.close(fd)
    os.unlink(name)


def _existing_ancestor(path: Path) -> Path:
    for parent in (path, *path.parents):
        if parent.exists():
            return parent
    return Path(".")


def check_folder(path: str | os.PathLike[str], what: str, *, create: bool = True) -> Path:
    """``path`` as a folder to write new files into: an existing writable folder, or one that
    can be made under an existing writable folder, which ``create`` makes now (without it, the
    check alone, before computing). ``what`` names it in errors ("--out")."""
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise OutputError(f"{what} {path} is a file, not a folder: choose a folder")
    if path.is_dir():
        _probe(path, f"{what} {path}")
        return path
    base = _existing_ancestor(path.absolute())
    if not base.is_dir():
        raise OutputError(f"{what} {path}: {base} is a file, not a folder")
    _probe(base, f"{what} {path}")
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{what} {path}: cannot create it ({exc.strerror})") from None
    return path


def check_target(
    path: str | os.PathLike[str],
    *,
    what: str,
    kind: str,
    suffixes: Sequence[str] = (),
    overwrite: bool = False,
) -> Path:
    """Check, before computing, that ``path`` can receive an output of ``kind``.

    ``suffixes``: the accepted ones (lower case, with the dot), any if empty. The folder must
    exist and be writable. An existing target passes if it is a flowlearn output of ``kind``,
    or a file and ``overwrite`` is set; a folder that is not such an output never passes.
    Raises :class:`OutputError` with a one-line reason; returns ``path``.
    """
    path = Path(path).expanduser()
    if suffixes and path.suffix.lower() not in suffixes:
        choices = ", ".join(suffixes[:-1]) + f" or {suffixes[-1]}" if len(suffixes) > 1 else ""
        raise OutputError(
            f"{what} {path}: unknown output format {path.suffix or '(none)'!r}; the file must "
            f"end in {choices or suffixes[0]}"
        )
    parent = path.absolute().parent
    if not parent.exists():
        raise OutputError(f"{what} {path}: the folder {parent} does not exist; create it first")
    if not parent.is_dir():
        raise OutputError(f"{what} {path}: {parent} is a file, not a folder")
    _probe(parent, f"{what} {path}")
    if path.exists() or path.is_symlink():
        found = output_kind(path)
        if found == kind:
            return path
        if path.is_symlink():
            raise OutputError(
                f"{what} {path} is a symbolic link: flowlearn never replaces links; choose "
                "another name"
            )
        if path.is_dir():
            what_it_is = f"a flowlearn {found}" if found else "a folder flowlearn did not create"
            raise OutputError(
                f"{what} {path} exists and is {what_it_is}: flowlearn never removes it; choose "
                "another name"
            )
        if not overwrite:
            what_it_is = f"a flowlearn {found}" if found else "not a flowlearn " + kind
            raise OutputError(
                f"{what} {path} exists and is {what_it_is}: add --overwrite to replace it, or "
                "choose another name"
            )
    return path


# --------------------------------------------------------------------------------------------
# Writing


def write_replacing(path: str | os.PathLike[str], write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` on a hidden sibling of ``path`` (same suffix), then move it into
    place. An existing file is replaced atomically; an existing folder (only ever a flowlearn
    output that :func:`check_target` accepted) is moved aside first and removed afterwards.
    If ``write`` fails, its partial output is removed and ``path`` is untouched."""
    path = Path(path)
    token = f"{os.getpid()}-{secrets.token_hex(3)}"
    tmp = path.with_name(f".{path.stem}.partial-{token}{path.suffix}")
    try:
        write(tmp)
        if path.is_dir() and not path.is_symlink():
            aside = path.with_name(f".{path.name}.replaced-{token}")
            path.rename(aside)
            tmp.rename(path)
            shutil.rmtree(aside)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    return path
