"""Run directories: create one that never overwrites, save a run, load it back.

Layout of ``<out>/<experiment>/<timestamp>/``::

    config.yaml    complete config: ``flowlearn run NAME --config config.yaml`` reproduces the run
    metrics.json   scalar metrics, the claims with their marks, timings, versions
    arrays.npz     the arrays the figures are drawn from (``flowlearn report`` re-draws them)
    run.log        the log of the run
    figures/*.png  and report.html, written by ``flowlearn.report``
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from flowlearn import __version__
from flowlearn.experiments._base import Claim, Experiment, ExperimentConfig, Result
from flowlearn.training import seed_everything
from flowlearn.training.launch import launch_rank

log = logging.getLogger("flowlearn")

CONFIG_FILE = "config.yaml"
METRICS_FILE = "metrics.json"
ARRAYS_FILE = "arrays.npz"
LOG_FILE = "run.log"


def new_run_dir(out: Path, experiment: str, now: datetime | None = None) -> Path:
    """Create ``out/experiment/<timestamp>`` and return it; an existing directory is never reused.

    Two runs started in the same second get ``<timestamp>-1``, ``-2``, ...: ``mkdir`` without
    ``exist_ok`` is atomic, so concurrent runs cannot take the same directory either.
    """
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    parent = Path(out) / experiment
    parent.mkdir(parents=True, exist_ok=True)
    for i in range(10_000):
        candidate = parent / (stamp if i == 0 else f"{stamp}-{i}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise RuntimeError(f"could not create a new run directory under {parent}")


class RunDirError(ValueError):
    """A run directory whose files are missing or damaged; the message names the file."""


def _launch_id() -> str:
    """A name every rank of one launch computes alike: ``FLOWLEARN_RUN_ID``, else SLURM's job
    and step, else torchrun's rendezvous (run id and master port)."""
    env = os.environ
    if env.get("FLOWLEARN_RUN_ID"):
        return env["FLOWLEARN_RUN_ID"]
    if env.get("SLURM_JOB_ID"):
        return f"slurm-{env['SLURM_JOB_ID']}.{env.get('SLURM_STEP_ID', '0')}"
    return f"torchrun-{env.get('TORCHELASTIC_RUN_ID', 'none')}-{env.get('MASTER_PORT', '0')}"


def shared_run_dir(
    out: Path, experiment: str, rank: int, timeout_s: float = 600.0, config_text: str | None = None
) -> Path:
    """The run directory of a multi-process launch: rank 0 creates ``out/experiment/<launch
    id>``, the other ranks wait for its ``config.yaml``.

    A directory that exists already belongs to an earlier launch with the same id: a SLURM job
    that was requeued keeps its id. Rank 0 resumes in it when ``config_text`` is given and the
    saved ``config.yaml`` holds the same config (training resumes from the members' last
    checkpoints); otherwise it refuses (``FileExistsError``).
    """
    path = Path(out) / experiment / _launch_id()
    if rank == 0:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir()
        except FileExistsError:
            saved = path / CONFIG_FILE
            if config_text is not None and (
                not saved.exists() or saved.read_text(encoding="utf-8") == config_text
            ):
                log.warning("run directory %s exists from an earlier launch: resuming", path)
                return path
            detail = " with another config" if config_text is not None else ""
            raise FileExistsError(
                f"run directory {path} exists from an earlier launch{detail}: set "
                "FLOWLEARN_RUN_ID to a new name"
            ) from None
        return path
    start = time.monotonic()
    while not (path / CONFIG_FILE).exists():
        if time.monotonic() - start > timeout_s:
            raise TimeoutError(f"rank {rank}: rank 0 did not create {path} in {timeout_s:.0f} s")
        time.sleep(0.5)
    return path


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch threads, then restore the previous count.

    Networks of a few dozen weights run several times faster on one thread than on two on a
    shared 2-core machine (threads wait on each other for microsecond-sized products), and one
    thread keeps floating-point sums in one order.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def config_to_yaml(experiment: str, config: ExperimentConfig) -> str:
    body = {"experiment": experiment, **config.model_dump(mode="json")}
    return yaml.safe_dump(body, sort_keys=False)


def jsonable(value: Any) -> Any:
    """``value`` with NumPy types as Python ones, tuples as lists, NaN as None and infinities
    as the strings \"inf\" / \"-inf\": what ``json.dumps`` writes as strict JSON."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, float) and not np.isfinite(value):
        return None if np.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


@contextmanager
def _log_to(path: Path) -> Iterator[None]:
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = log.level
    log.setLevel(logging.INFO)
    root.addHandler(handler)
    logging.captureWarnings(True)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
        log.setLevel(old_level)
        logging.captureWarnings(False)


def execute(experiment: Experiment, config: ExperimentConfig, out: Path) -> Path:
    """Run ``experiment`` with ``config`` in a new run directory under ``out``; return it.

    The config is written before the run starts, so an interrupted run still says what it was.
    Launched as several processes (torchrun, srun: see :func:`launch_rank`), all ranks share one
    run directory and run the experiment (distributed training needs them all); rank 0 alone
    writes the config, metrics and arrays. A requeued SLURM job (same job id, same config)
    resumes in its run directory (:func:`shared_run_dir`).
    """
    rank, world = launch_rank()
    text = config_to_yaml(experiment.name, config)
    if world > 1:
        run_dir = shared_run_dir(out, experiment.name, rank, config_text=text)
    else:
        run_dir = new_run_dir(out, experiment.name)
    if rank > 0:  # rank 0 writes the run's files; the others train beside it and log apart
        with _log_to(run_dir / f"run.rank{rank}.log"):
            seed_everything(config.seed)
            experiment.run(config, run_dir)
        return run_dir
    (run_dir / (CONFIG_FILE + ".tmp")).write_text(text, encoding="utf-8")
    (run_dir / (CONFIG_FILE + ".tmp")).replace(run_dir / CONFIG_FILE)
    with _log_to(run_dir / LOG_FILE):
        log.info("flowlearn %s: run %s in %s", __version__, experiment.name, run_dir)
        log.info("config: %s", config.model_dump(mode="json"))
        seed_everything(config.seed)
        start = time.perf_counter()
        try:
            result = experiment.run(config, run_dir)
        except BaseException as exc:  # Ctrl-C included: run.log must say how the run ended
            log.error("run stopped after %.1f s: %r", time.perf_counter() - start, exc)
            raise
        wall = time.perf_counter() - start
        log.info("finished in %.1f s", wall)
        save_result(run_dir, experiment.name, result, wall_time_s=wall)
    return run_dir


def save_result(run_dir: Path, name: str, result: Result, wall_time_s: float) -> None:
    if not all(isinstance(c, Claim) for c in result.claims):
        raise TypeError("Result.claims must hold Claim objects")
    body = {
        "experiment": name,
        "metrics": jsonable(result.metrics),
        "claims": [c.to_dict() for c in result.claims],
        "wall_time_s": round(wall_time_s, 3),
        "flowlearn_version": __version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    (run_dir / METRICS_FILE).write_text(json.dumps(body, indent=2), encoding="utf-8")
    np.savez_compressed(run_dir / ARRAYS_FILE, **result.arrays)


@dataclass
class RunRecord:
    """A finished run read back from its directory."""

    path: Path
    experiment: str
    config: dict[str, Any]
    metrics: dict[str, Any]
    claims: list[Claim]
    arrays: dict[str, np.ndarray]
    wall_time_s: float


def load_run(run_dir: Path) -> RunRecord:
    """Read a run directory written by :func:`execute` (no pickles: arrays load with
    ``allow_pickle=False``). A missing ``metrics.json`` is a ``FileNotFoundError``; a damaged
    file is a :class:`RunDirError` that names it."""
    import zipfile

    run_dir = Path(run_dir)
    metrics_path = run_dir / METRICS_FILE
    if not metrics_path.is_file():
        raise FileNotFoundError(
            f"{run_dir} is not a finished flowlearn run: {METRICS_FILE} is missing"
        )

    def damaged(name: str, exc: BaseException) -> RunDirError:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return RunDirError(
            f"{run_dir / name} is damaged ({reason}): run the experiment again with `flowlearn "
            f"run --config {run_dir / CONFIG_FILE}`"
        )

    try:
        body = json.loads(metrics_path.read_text(encoding="utf-8"))
        claims = [Claim(**c) for c in body["claims"]]
        experiment, metrics = body["experiment"], body["metrics"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise damaged(METRICS_FILE, exc) from None
    try:
        config = yaml.safe_load((run_dir / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise damaged(CONFIG_FILE, exc) from None
    arrays: dict[str, np.ndarray] = {}
    if (run_dir / ARRAYS_FILE).is_file():
        try:
            with np.load(run_dir / ARRAYS_FILE, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            raise damaged(ARRAYS_FILE, exc) from None
    return RunRecord(
        path=run_dir,
        experiment=experiment,
        config=config,
        metrics=metrics,
        claims=claims,
        arrays=arrays,
        wall_time_s=float(body.get("wall_time_s", 0.0)),
    )
