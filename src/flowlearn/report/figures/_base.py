"""The contract of a figure module: ``draw(run) -> list[Figure]``, one module per experiment."""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # reports are written headless: never ask for a display

from matplotlib.figure import Figure as MplFigure


@dataclass
class Figure:
    """A drawn figure: saved as ``figures/<name>.png`` and shown in the report with ``caption``."""

    name: str
    caption: str
    figure: MplFigure
