"""The contract every experiment keeps: a typed config, a ``run`` function and a ``Result``.

An experiment module defines a pydantic ``Config`` (subclass of :class:`ExperimentConfig`), a
function ``run(config, run_dir) -> Result`` and one :class:`Experiment` record that names it,
states the talk's claim it checks and says how long it takes. It computes; it never plots. The
arrays it returns are saved beside the metrics so that ``flowlearn.report`` can draw every figure
again from the run directory alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class ExperimentConfig(BaseModel):
    """Fields every experiment has. Unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    seed: int = Field(0, ge=0, description="seed of every random generator of the run")
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="torch device: 'auto' takes CUDA when available, else the CPU"
    )
    quick: bool = Field(False, description="the ~1 minute mode used by the tour and CI")


@dataclass(frozen=True)
class Claim:
    """One claim of the talk next to what this run measured.

    ``talk`` is the figure as the slide gives it ("78.5 %"), ``measured`` what we got, formatted
    the same way. ``reproduced`` is decided by the experiment from numbers, never by hand, and
    ``reason`` explains any difference (or how the check was made when it holds).
    """

    slide: str
    talk: str
    measured: str
    reproduced: bool
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Result:
    """What a run returns: scalar metrics (JSON-able), arrays for the figures, the claims."""

    metrics: dict[str, Any]
    claims: list[Claim]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


RunFunction = Callable[[Any, Path], Result]
CheckFunction = Callable[[Any], None]
ClaimsFunction = Callable[[Any, dict[str, Any]], list[Claim]]


@dataclass(frozen=True)
class Experiment:
    """The registry entry of one experiment.

    ``order`` places it in the talk (the tour sorts by it); ``quick`` holds the config overrides
    of ``--quick``; ``runtime_quick`` / ``runtime_full`` are measured wall times on 2 CPU cores.
    ``check(config)``, if given, refuses (``ValueError``) a config that cannot run here, such as
    one whose data or networks would not fit in memory, before any run directory is made.
    ``claims(config, metrics)`` decides the marks from the metrics alone (``run`` calls it), so
    every verdict can be tested on crafted metrics.
    """

    name: str
    title: str
    claim: str
    order: int
    config: type[ExperimentConfig]
    run: RunFunction
    quick: Mapping[str, Any] = field(default_factory=dict)
    runtime_quick: str = "~1 min"
    runtime_full: str = "?"
    check: CheckFunction | None = None
    claims: ClaimsFunction | None = None

    def make_config(self, quick: bool = False, **values: Any) -> ExperimentConfig:
        """The config of a run: defaults, then ``--quick`` overrides, then explicit values."""
        data: dict[str, Any] = dict(self.quick) if quick else {}
        data["quick"] = quick
        data.update(values)
        return self.config.model_validate(data)
