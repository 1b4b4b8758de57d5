"""Launches of several processes (torchrun, SLURM's srun): which one this process is, and how
Lightning should spread the training over them."""

from __future__ import annotations

import os
import re
from typing import Any


class LaunchError(ValueError):
    """A launcher's environment (torchrun, srun) that flowlearn cannot use as it stands."""


def _env_int(name: str, minimum: int) -> int:
    raw = os.environ[name]
    try:
        value = int(raw)
    except ValueError:
        raise LaunchError(
            f"{name}={raw!r} is not an integer: launchers (torchrun, srun) set it; unset it to "
            "run a single process"
        ) from None
    if value < minimum:
        raise LaunchError(f"{name}={value} is below {minimum}: launchers set it; unset it")
    return value


def launch_rank() -> tuple[int, int]:
    """``(rank, world size)`` of this process when a launcher started several copies of the same
    command (torchrun, or SLURM's srun with several tasks); ``(0, 1)`` otherwise. A
    :class:`LaunchError` names a variable that is not a usable integer."""
    env = os.environ
    if "RANK" in env and "WORLD_SIZE" in env:
        rank, world = _env_int("RANK", 0), _env_int("WORLD_SIZE", 1)
    elif "SLURM_NTASKS" in env and _env_int("SLURM_NTASKS", 1) > 1 and "SLURM_PROCID" in env:
        rank, world = _env_int("SLURM_PROCID", 0), _env_int("SLURM_NTASKS", 1)
    else:
        return 0, 1
    if rank >= world:
        raise LaunchError(f"rank {rank} is not below the world size {world}: check the launcher")
    return rank, world


def distributed_options(devices: int = 1) -> dict[str, Any]:
    """Lightning options: DDP across the ranks of a launch (torchrun, srun), else spawned DDP
    over ``devices`` on this node, else one device ({})."""
    _, world = launch_rank()
    if world > 1:
        per_node = os.environ.get("LOCAL_WORLD_SIZE") or os.environ.get("SLURM_NTASKS_PER_NODE")
        # SLURM may write "4(x2)": the count per node comes first
        local = int(re.match(r"\d+", per_node).group()) if per_node else world
        return {"devices": local, "num_nodes": max(1, world // local), "strategy": "ddp"}
    if devices > 1:
        return {"devices": devices, "strategy": "ddp_spawn"}
    return {}
