"""Metrics of a flow surrogate that predicts steady 2-D channel flow around a body.

Conventions (shared with the flow datasets):

- ``fields``: float arrays of channels ``(u, v, p)`` over a grid indexed ``[y, x]``, one
  sample ``(3, ny, nx)`` or a batch ``(N, 3, ny, nx)``. Dimensionless: ``u, v`` are divided
  by the mean inlet velocity ``U``, ``p = (pressure - outlet pressure) / (rho U^2)``.
- Lengths are in cells (``dx = 1``, cell ``(j, i)`` spans ``[i, i+1] x [j, j+1]``).
- ``mask``: bool ``(ny, nx)`` (shared by the batch) or ``(N, ny, nx)``, True inside the body.
- ``re = U L / nu`` with ``L = ref_length`` cells (the body's cross-stream extent).
- The channel: flow in ``+x``, no-slip walls at ``y = 0`` and ``y = ny``.

Values inside the body are never read by the fluid metrics (NaN there is fine), except by
:func:`no_slip_residual`, which measures exactly them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from flowlearn.data.flow_fields import FIELD_NAMES

if TYPE_CHECKING:
    from flowlearn.physics.lbm.cases import Case

__all__ = [
    "channel_mse",
    "divergence_residual",
    "fields_from_case",
    "fluctuation_error",
    "force_coefficients",
    "no_slip_residual",
    "per_sample_spearman",
    "relative_velocity_error",
    "spread_error_spearman",
    "with_zero_pressure",
]

CHANNELS = FIELD_NAMES


# ---------------------------------------------------------------------------- input checks
def _as_batch(fields: np.ndarray, name: str = "fields", channels: int | None = 3) -> np.ndarray:
    """``(C, ny, nx)`` or ``(N, C, ny, nx)`` -> float ``(N, C, ny, nx)``."""
    a = np.asarray(fields, dtype=float)
    if a.ndim == 3:
        a = a[None]
    if a.ndim != 4 or (channels is not None and a.shape[1] != channels):
        want = f"({channels}, ny, nx) or (N, {channels}, ny, nx)" if channels else "(C, ny, nx)"
        raise ValueError(
            f"{name} has shape {np.shape(fields)}; expected {want}"
            + (" with channels (u, v, p)" if channels == 3 else "")
        )
    return a


def _as_mask(mask: np.ndarray, n: int, grid: tuple[int, int], name: str = "fields") -> np.ndarray:
    """``(ny, nx)`` or ``(N, ny, nx)`` bool (or 0/1) -> bool ``(N, ny, nx)`` matching ``grid``."""
    m = np.asarray(mask)
    if m.dtype != bool:
        if not np.isin(m, (0, 1)).all():
            raise ValueError(
                f"mask of dtype {m.dtype} holds values other than 0 and 1: pass a boolean "
                "array, True inside the body"
            )
        m = m.astype(bool)
    if m.ndim == 2:
        m = np.broadcast_to(m, (n, *m.shape))
    if m.ndim != 3 or m.shape[1:] != grid or m.shape[0] != n:
        raise ValueError(
            f"mask has shape {np.shape(mask)} but {name} have {n} sample(s) on a "
            f"{grid[0]} x {grid[1]} (ny, nx) grid: expected {grid} or {(n, *grid)}"
        )
    if m.reshape(n, -1).all(axis=1).any():
        bad = np.flatnonzero(m.reshape(n, -1).all(axis=1))
        raise ValueError(f"mask of sample(s) {bad.tolist()} is solid everywhere: no fluid cell")
    return m


def _need_body(m: np.ndarray) -> None:
    empty = ~m.reshape(m.shape[0], -1).any(axis=1)
    if empty.any():
        raise ValueError(
            f"mask of sample(s) {np.flatnonzero(empty).tolist()} has no solid cell: this "
            "metric needs a body"
        )


def _pair(
    pred: np.ndarray,
    true: np.ndarray,
    mask: np.ndarray,
    channels: int | None = 3,
    names: tuple[str, str] = ("pred", "true"),
):
    a, b = names
    p = _as_batch(pred, a, channels)
    t = _as_batch(true, b, channels)
    if p.shape != t.shape:
        raise ValueError(
            f"{a} has shape {np.shape(pred)} but {b} has shape {np.shape(true)}: they must match"
        )
    m = _as_mask(mask, p.shape[0], p.shape[2:], f"{a} and {b}")
    return p, t, m


# ---------------------------------------------------------------------------- accuracy
def relative_velocity_error(pred: np.ndarray, true: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Relative velocity error per sample, ``(N,)`` (Guo, Li & Iorio, KDD 2016, as we define it).

    ``E = sum_fluid |u_pred - u_true| / sum_fluid |u_true|``, where ``|.|`` is the magnitude of
    the 2-D velocity vector ``(u, v)`` of a cell and the sums run over the fluid cells
    (``~mask``) of one sample; the pressure channel is not used. ``pred = 1.1 true`` gives 0.1.
    """
    p, t, m = _pair(pred, true, mask)
    fluid = ~m
    err = np.where(fluid, np.hypot(p[:, 0] - t[:, 0], p[:, 1] - t[:, 1]), 0.0)
    ref = np.where(fluid, np.hypot(t[:, 0], t[:, 1]), 0.0)
    num, den = err.sum(axis=(1, 2)), ref.sum(axis=(1, 2))
    if (den <= 0).any():
        raise ValueError(
            f"true velocity is zero on every fluid cell of sample(s) "
            f"{np.flatnonzero(den <= 0).tolist()}: the relative error is undefined"
        )
    return num / den


def with_zero_pressure(velocity: np.ndarray) -> np.ndarray:
    """``(N, 2, ny, nx)`` velocities as ``(N, 3, ny, nx)`` fields with ``p = 0``, for the
    velocity metrics here when no pressure is stored (the wake's snapshots)."""
    v = np.asarray(velocity)
    return np.concatenate([v, np.zeros_like(v[:, :1])], axis=1)


def fluctuation_error(
    pred: np.ndarray, true: np.ndarray, mean: np.ndarray, mask: np.ndarray
) -> float:
    """The error of an unsteady flow's fluctuations: ``||pred - true|| / ||true - mean||`` over
    the fluid cells' velocities of the whole batch (``mean``: the mean flow, broadcast), so a
    prediction that returns the mean flow scores 1."""
    fluid = ~np.asarray(mask, bool)[:, None] if np.ndim(mask) == 3 else ~np.asarray(mask, bool)
    d = (np.asarray(pred) - true)[:, :2] * fluid
    f = (np.asarray(true) - mean)[:, :2] * fluid
    return float(np.linalg.norm(d) / max(np.linalg.norm(f), 1e-300))


def channel_mse(pred: np.ndarray, true: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """Mean squared error per channel over the fluid cells, pooled over the batch (DeepCFD).

    Returns ``{"u", "v", "p", "total"}``: each channel's mean of ``(pred - true)^2`` over all
    fluid cells of all samples, and ``total = u + v + p`` (the sum DeepCFD reports).
    """
    p, t, m = _pair(pred, true, mask)
    fluid = ~m
    count = fluid.sum()
    out = {}
    for c, name in enumerate(CHANNELS):
        out[name] = float(np.where(fluid, (p[:, c] - t[:, c]) ** 2, 0.0).sum() / count)
    out["total"] = out["u"] + out["v"] + out["p"]
    return out


# ---------------------------------------------------------------------------- physics
def _all_fluid_stencil(m: np.ndarray) -> np.ndarray:
    """Cells whose 5-point stencil (itself and its 4 neighbours) lies inside the grid and in
    the fluid: ``(N, ny, nx)`` bool."""
    fluid = ~m
    ok = np.zeros_like(fluid)
    ok[:, 1:-1, 1:-1] = (
        fluid[:, 1:-1, 1:-1]
        & fluid[:, 2:, 1:-1]
        & fluid[:, :-2, 1:-1]
        & fluid[:, 1:-1, 2:]
        & fluid[:, 1:-1, :-2]
    )
    return ok


def divergence_residual(fields: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Dimensionless mass-conservation residual per sample, ``(N,)``.

    ``R = RMS(du/dx + dv/dy) / RMS(|grad u|)``: second-order central differences (``dx = 1``)
    on the cells whose whole 5-point stencil is fluid and inside the grid, both RMS over the
    same cells; ``|grad u|`` is the Frobenius norm of the velocity gradient,
    ``sqrt(u_x^2 + u_y^2 + v_x^2 + v_y^2)``, which stands for ``U / L``. 0 for a solenoidal
    field, at most ``sqrt(2)``; ``u = (x, 0)`` gives 1. A flow with no gradient gives 0.
    """
    f = _as_batch(fields)
    m = _as_mask(mask, f.shape[0], f.shape[2:])
    ok = _all_fluid_stencil(m)
    counts = ok.sum(axis=(1, 2))
    if (counts == 0).any():
        raise ValueError(
            f"sample(s) {np.flatnonzero(counts == 0).tolist()} have no cell whose "
            "5-point stencil is all fluid: the grid is too small"
        )
    u, v = f[:, 0], f[:, 1]
    grads = np.zeros((4, *u.shape))
    grads[0][:, :, 1:-1] = 0.5 * (u[:, :, 2:] - u[:, :, :-2])  # du/dx
    grads[1][:, 1:-1, :] = 0.5 * (u[:, 2:, :] - u[:, :-2, :])  # du/dy
    grads[2][:, :, 1:-1] = 0.5 * (v[:, :, 2:] - v[:, :, :-2])  # dv/dx
    grads[3][:, 1:-1, :] = 0.5 * (v[:, 2:, :] - v[:, :-2, :])  # dv/dy
    grads = np.where(ok, grads, 0.0)  # drops the NaN/garbage next to solids and edges
    div2 = ((grads[0] + grads[3]) ** 2).sum(axis=(1, 2))
    norm2 = (grads**2).sum(axis=(0, 2, 3))
    return np.divide(np.sqrt(div2), np.sqrt(norm2), out=np.zeros_like(div2), where=norm2 > 0)


def no_slip_residual(fields: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean speed ``sqrt(u^2 + v^2)`` over the solid cells per sample, ``(N,)``, in units of
    ``U`` (ideal 0: the fluid sticks to the body, which is at rest)."""
    f = _as_batch(fields)
    m = _as_mask(mask, f.shape[0], f.shape[2:])
    _need_body(m)
    speed = np.where(m, np.hypot(f[:, 0], f[:, 1]), 0.0)
    return speed.sum(axis=(1, 2)) / m.sum(axis=(1, 2))


def _control_box(solid: np.ndarray, margin: int) -> tuple[int, int, int, int]:
    """Rectangle faces ``(x0, x1, y0, y1)`` (cells ``x0 .. x1 - 1`` inside) around the body."""
    ny, nx = solid.shape
    rows = np.flatnonzero(solid.any(axis=1))
    cols = np.flatnonzero(solid.any(axis=0))
    x0 = max(int(cols[0]) - margin, 2)
    x1 = min(int(cols[-1]) + 1 + margin, nx - 2)
    y0 = max(int(rows[0]) - margin, 2)
    y1 = min(int(rows[-1]) + 1 + margin, ny - 2)
    if x0 > cols[0] - 1 or x1 < cols[-1] + 2 or y0 > rows[0] - 1 or y1 < rows[-1] + 2:
        raise ValueError(
            f"the body spans cells x {cols[0]}..{cols[-1]}, y {rows[0]}..{rows[-1]} of the "
            f"{nx} x {ny} grid: a control volume needs at least 3 fluid cells between it and "
            "the walls, the inlet and the outlet"
        )
    return x0, x1, y0, y1


def _contour_force(
    u: np.ndarray, v: np.ndarray, p: np.ndarray, box: tuple[int, int, int, int], nu: float
) -> tuple[float, float]:
    """Force on what the rectangle ``box`` encloses, ``(Fx, Fy) / (rho U^2)`` per unit depth:
    ``-sum [p n + u (u.n)] + nu (grad u + grad u^T) . n`` over its unit face segments."""
    x0, x1, y0, y1 = box
    fx = fy = 0.0
    # Vertical edges: faces x = x0 (n = -x) and x = x1 (n = +x); rows y0 .. y1 - 1.
    rows = slice(y0, y1)
    for xf, sign in ((x0, -1.0), (x1, 1.0)):
        a, b = xf - 1, xf  # the two cells straddling the face
        uf = 0.5 * (u[rows, a] + u[rows, b])
        vf = 0.5 * (v[rows, a] + v[rows, b])
        pf = 0.5 * (p[rows, a] + p[rows, b])
        du_dx = u[rows, b] - u[rows, a]
        dv_dx = v[rows, b] - v[rows, a]
        up, um = slice(y0 + 1, y1 + 1), slice(y0 - 1, y1 - 1)
        du_dy = 0.25 * (u[up, a] - u[um, a] + u[up, b] - u[um, b])
        # n = (sign, 0): (S.n) = sign (S_xx, S_xy)
        fx += sign * np.sum(-pf - uf * uf + nu * 2.0 * du_dx)
        fy += sign * np.sum(-vf * uf + nu * (du_dy + dv_dx))
    # Horizontal edges: faces y = y0 (n = -y) and y = y1 (n = +y); columns x0 .. x1 - 1.
    cols = slice(x0, x1)
    for yf, sign in ((y0, -1.0), (y1, 1.0)):
        a, b = yf - 1, yf
        uf = 0.5 * (u[a, cols] + u[b, cols])
        vf = 0.5 * (v[a, cols] + v[b, cols])
        pf = 0.5 * (p[a, cols] + p[b, cols])
        du_dy = u[b, cols] - u[a, cols]
        dv_dy = v[b, cols] - v[a, cols]
        right, left = slice(x0 + 1, x1 + 1), slice(x0 - 1, x1 - 1)
        dv_dx = 0.25 * (v[a, right] - v[a, left] + v[b, right] - v[b, left])
        # n = (0, sign): (S.n) = sign (S_xy, S_yy)
        fx += sign * np.sum(-uf * vf + nu * (du_dy + dv_dx))
        fy += sign * np.sum(-pf - vf * vf + nu * 2.0 * dv_dy)
    return float(fx), float(fy)


def force_coefficients(
    fields: np.ndarray,
    mask: np.ndarray,
    re: float | np.ndarray,
    ref_length: float | np.ndarray,
    margin: int = 3,
) -> dict[str, np.ndarray]:
    """Drag and lift coefficients of the body from the fields alone, ``{"cd", "cl"}`` ``(N,)``.

    Control-volume momentum balance of the steady flow on a rectangle around the body (its
    bounding box from ``mask`` grown by ``margin`` >= 1 cells, clipped to keep >= 2 cells to
    the walls, the inlet and the outlet; its edges lie on cell faces). The force on the body,
    per unit depth, in units of ``rho U^2`` x cell:

        ``F = -∮ [p n + u (u.n)] dl + ∮ (L / Re) (grad u + grad u^T) . n dl``

    with ``n`` the outward normal of the rectangle (``L / Re = nu / U`` in cells). Each unit
    face segment is one midpoint-rule sample: values are averages of the two cells
    straddling the face, normal derivatives their difference, tangential derivatives the mean
    of the two cells' central differences. ``Cd = 2 Fx / L`` (positive along ``+x``, the
    flow), ``Cl = 2 Fy / L`` (positive along ``+y``). ``re`` and ``ref_length`` are scalars or
    ``(N,)``. Against the LBM momentum exchange (cylinder, Re 20, margin 3): +1.2 % at 8 cells
    per diameter, +0.3 % at 16.
    """
    f = _as_batch(fields)
    n = f.shape[0]
    m = _as_mask(mask, n, f.shape[2:])
    _need_body(m)
    if int(margin) != margin or margin < 1:
        raise ValueError(f"margin {margin} must be an integer >= 1 cell")
    re_b = np.broadcast_to(np.asarray(re, dtype=float), (n,))
    length_b = np.broadcast_to(np.asarray(ref_length, dtype=float), (n,))
    if not (np.all(re_b > 0) and np.all(length_b > 0)):
        raise ValueError(f"re {re} and ref_length {ref_length} must be positive")
    cd, cl = np.empty(n), np.empty(n)
    for k in range(n):
        box = _control_box(m[k], int(margin))
        x0, x1, y0, y1 = box
        stencil = f[k, :, y0 - 1 : y1 + 1, x0 - 1 : x1 + 1]
        ring = np.ones(stencil.shape[1:], dtype=bool)
        ring[2:-2, 2:-2] = False
        if not np.isfinite(stencil[:, ring]).all():
            raise ValueError(f"sample {k}: NaN or inf in the fields on the control-volume contour")
        fx, fy = _contour_force(f[k, 0], f[k, 1], f[k, 2], box, length_b[k] / re_b[k])
        cd[k] = 2.0 * fx / length_b[k]
        cl[k] = 2.0 * fy / length_b[k]
    return {"cd": cd, "cl": cl}


# ---------------------------------------------------------------------------- uncertainty
def _spread_pair(spread: np.ndarray, error: np.ndarray, mask: np.ndarray):
    return _pair(spread, error, mask, channels=None, names=("spread", "error"))


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")  # undefined for a constant input
    return float(stats.spearmanr(a, b).statistic)


def spread_error_spearman(spread: np.ndarray, error: np.ndarray, mask: np.ndarray) -> float:
    """Spearman rank correlation between an ensemble's per-pixel spread and the per-pixel
    absolute error, over the fluid cells of all samples (and channels) pooled.

    ``spread`` and ``error`` share the fields' layout ``(C, ny, nx)`` or ``(N, C, ny, nx)``
    with any ``C`` (pass ``[:, :1]`` or a speed as ``C = 1`` to rank one quantity); the
    absolute value of ``error`` is taken. 1: the spread orders the errors perfectly; ~0: it
    says nothing. NaN when either is constant over the fluid.
    """
    s, e, m = _spread_pair(spread, error, mask)
    fluid = np.broadcast_to(~m[:, None], s.shape)
    return _spearman(s[fluid], np.abs(e[fluid]))


def per_sample_spearman(spread: np.ndarray, error: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """:func:`spread_error_spearman` of each sample on its own, ``(N,)``."""
    s, e, m = _spread_pair(spread, error, mask)
    out = np.empty(s.shape[0])
    for k in range(s.shape[0]):
        fluid = np.broadcast_to(~m[k][None], s.shape[1:])
        out[k] = _spearman(s[k][fluid], np.abs(e[k][fluid]))
    return out


# ---------------------------------------------------------------------------- LBM bridge
def fields_from_case(case: Case) -> tuple[np.ndarray, np.ndarray]:
    """The current state of a 2-D LBM channel ``case`` as dimensionless ``(fields, mask)``:
    :meth:`Case.fields` (``u / U``, ``v / U``, ``c_s^2 (rho - 1) / U^2``, 0 in the body) with a
    check that its solid mask is the solver's (interior cells, transposed from ``(x, y)``).
    The matching ``re`` is ``case.units.re`` and ``ref_length`` ``case.ref_length / case.dx``.
    """
    solver = case.solver
    if solver.dim != 2:
        raise ValueError(f"fields_from_case needs a 2-D case; this one is {solver.dim}-D")
    fields, mask = case.fields()
    solid = ~np.asarray(solver.fluid)[1:-1, 1:-1].T  # padded (x, y) -> interior [y, x]
    if not np.array_equal(mask, solid):
        raise ValueError("the fields' NaN cells differ from the solver's solid cells")
    return fields, mask
