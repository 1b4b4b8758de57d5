"""Memory checked before it is allocated: what this process may still use, and a refusal that
names the estimate, the limit and what lowers it.

The limit is the smallest of the kernel's ``MemAvailable`` (memory that can be handed out
without swapping), the room left under the process's cgroup limit (containers, SLURM jobs) and
``FLOWLEARN_MEMORY_LIMIT`` when it is set (``16G``, ``512M`` or bytes: a cap of your own on a
shared node). On a CUDA device it is the device's free memory.

Estimates belong to whoever allocates: the solver (:func:`flowlearn.physics.lbm.solver_memory`),
the networks (:func:`flowlearn.training.surrogate.model_memory`) and the dataset generation;
each calls :func:`require_memory` before the first large array exists.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

ENV_LIMIT = "FLOWLEARN_MEMORY_LIMIT"

_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


class MemoryLimitError(ValueError):
    """A computation that would need more memory than is available; ``need`` and ``limit`` are
    bytes, ``what`` names the allocation and ``hint`` what lowers it."""

    def __init__(self, what: str, need: int, limit: int, source: str, hint: str) -> None:
        self.what, self.need, self.limit, self.source, self.hint = what, need, limit, source, hint
        super().__init__(self.message())

    def message(self, hint: str | None = None) -> str:
        """The refusal, with ``hint`` (e.g. the command-line option) in place of the default."""
        return (
            f"{self.what} needs about {format_bytes(self.need)} of memory, more than the "
            f"{format_bytes(self.limit)} available ({self.source}): {hint or self.hint}"
        )


def format_bytes(n: float) -> str:
    """``1536 * 1024**2`` -> ``"1.5 GiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def parse_bytes(text: str) -> int:
    """``"16G"`` -> 17179869184; ``"512M"``, ``"1.5T"``, ``"1000000"`` (bytes) alike."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([KMGT]?)(?:i?B)?\s*", text, flags=re.IGNORECASE)
    if not m:
        raise ValueError(
            f"{ENV_LIMIT}={text!r} is not a size: give bytes or a number with K, M, G or T "
            "(e.g. 16G)"
        )
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_dirs() -> list[tuple[Path, str]]:
    """Memory-controller folders of this process: ``(folder, "v1" | "v2")``, own first."""
    root = Path("/sys/fs/cgroup")
    found: list[tuple[Path, str]] = []
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        _, controllers, rel = [*line.split(":", 2), "", ""][:3]
        rel = rel.lstrip("/")
        if controllers == "":
            found.append((root / rel, "v2"))
        elif "memory" in controllers.split(","):
            found.append((root / "memory" / rel, "v1"))
    found += [(root, "v2"), (root / "memory", "v1")]  # a container's own view of its limit
    return found


def _reclaimable(folder: Path, version: str) -> int:
    """Page cache the kernel drops before it refuses memory (counted in the usage)."""
    key = "inactive_file" if version == "v2" else "total_inactive_file"
    try:
        for line in (folder / "memory.stat").read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _cgroup_available() -> int | None:
    for folder, version in _cgroup_dirs():
        if version == "v2":
            limit, usage = _read_int(folder / "memory.max"), _read_int(folder / "memory.current")
        else:
            limit = _read_int(folder / "memory.limit_in_bytes")
            usage = _read_int(folder / "memory.usage_in_bytes")
        if limit is None or usage is None:
            continue
        if limit >= 2**60:  # "no limit" in cgroup v1
            return None
        return max(0, limit - usage + _reclaimable(folder, version))
    return None


@dataclass(frozen=True)
class Available:
    """Bytes this process may still allocate, and which limit decided it."""

    bytes: int
    source: str


def available_memory(device: str = "cpu") -> Available:
    """Memory a new allocation may take on ``device`` ("cpu", or "cuda"/"cuda:N": the device's
    free memory): the smallest of the limits in the module docstring."""
    if str(device).startswith("cuda"):
        import torch

        free, _ = torch.cuda.mem_get_info(torch.device(device))
        return Available(int(free), f"free memory of {device}")
    candidates: list[tuple[int, str]] = []
    mem = _meminfo_available()
    if mem is not None:
        candidates.append((mem, "MemAvailable"))
    cg = _cgroup_available()
    if cg is not None:
        candidates.append((cg, "room under the cgroup limit"))
    if os.environ.get(ENV_LIMIT):
        candidates.append((parse_bytes(os.environ[ENV_LIMIT]), ENV_LIMIT))
    if not candidates:  # not Linux: physical pages free now
        try:
            pages = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            candidates.append((int(pages), "free physical memory"))
        except (ValueError, OSError, AttributeError):
            return Available(2**62, "unknown (no limit found)")
    return Available(*min(candidates))


def require_memory(need: float, what: str, hint: str, device: str = "cpu") -> None:
    """Raise :class:`MemoryLimitError` if ``need`` bytes exceed :func:`available_memory`.

    ``what`` names the allocation ("the 4096x4096 D2Q9 lattice"), ``hint`` says what lowers it
    ("use a coarser grid"); a front end may replace the hint with its own option names.
    """
    avail = available_memory(device)
    if need > avail.bytes:
        raise MemoryLimitError(what, int(need), avail.bytes, avail.source, hint)
