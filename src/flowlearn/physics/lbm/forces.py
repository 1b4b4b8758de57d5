"""Forces on bodies by momentum exchange, and their coefficients.

The force itself is summed over the boundary links in :meth:`Solver.force_on`:
``F = sum_links c_i (f_i^*(x_f) + f_ibar(x_b))`` (Ladd 1994; Bouzidi-consistent because the
reflected population is the one the interpolated kernel wrote).
"""

from __future__ import annotations

import math

import numpy as np


def coefficients(
    force: np.ndarray, u_ref: float, length_cells: float, dim: int, rho: float = 1.0
) -> dict[str, float]:
    """``{"cd", "cl"[, "cl_z"]}`` from a lattice force ``(D,)``.

    2-D: ``C = 2 F / (rho U^2 L)`` per unit depth; 3-D: ``C = 2 F / (rho U^2 pi L^2 / 4)``.
    ``u_ref`` cells/step, ``length_cells`` cells.
    """
    area = length_cells if dim == 2 else math.pi * length_cells**2 / 4
    q = 0.5 * rho * u_ref**2 * area
    out = {"cd": float(force[0] / q), "cl": float(force[1] / q)}
    if dim == 3:
        out["cl_z"] = float(force[2] / q)
    return out
