"""The contract of a figure module: ``draw(run) -> list[Figure]``, one module per experiment."""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib
import numpy as np

matplotlib.use("Agg")  # reports are written headless: never ask for a display

from matplotlib.figure import Figure as MplFigure


@dataclass
class Figure:
    """A drawn figure: saved as ``figures/<name>.png`` and shown in the report with ``caption``.
    With ``frames`` (``(T, H, W, 3)`` uint8 images) it is an animation instead: saved as
    ``figures/<name>.gif`` at ``fps`` frames a second, ``figure`` unused but closed."""

    name: str
    caption: str
    figure: MplFigure
    frames: np.ndarray | None = None
    fps: int = 8
