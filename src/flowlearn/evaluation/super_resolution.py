"""Scoring super-resolved flow fields against the fine LBM, and the LBM's own cost ladder.

Every score is on the fine grid with the body's fine mask (its shape is known exactly, so solid
cells are 0 in every prediction):

- the relative velocity error (:func:`flowlearn.evaluation.flow_metrics.relative_velocity_error`);
- PSNR and SSIM (scikit-image), per field (u, v, p) over the fine grid with the true field's
  range as data range, then averaged over the fields;
- the energy spectrum along the wake (:func:`energy_spectrum`) and :func:`fine_scale_energy`,
  the kinetic energy the prediction puts at wavenumbers above the coarse grid's Nyquist against
  the fine field's (1: the fine scales recovered; 0: none; above 1: invented);
- the divergence residual, and the drag from the fields by a control-volume balance
  (:func:`flowlearn.evaluation.flow_metrics.force_coefficients`) against that of the fine field.

:func:`cubic_resize` brings a field from any grid (any ratio) to another, cell-centred, by cubic
splines: the classical upscaling every method is measured against, and what turns the LBM's
runs on coarser grids into a cost-error curve (:func:`ladder_front`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import ndimage

from flowlearn.evaluation import cost_accuracy, flow_metrics


def cubic_resize(fields: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``(..., h, w)`` to ``(..., H, W)``: cubic spline interpolation, cell-centred (fine cell
    ``i`` at coarse coordinate ``(i + 0.5) h / H - 0.5``), edges held (``mode="nearest"``)."""
    fields = np.asarray(fields, dtype=np.float64)
    h, w = fields.shape[-2:]
    big_h, big_w = shape
    yy = (np.arange(big_h) + 0.5) * h / big_h - 0.5
    xx = (np.arange(big_w) + 0.5) * w / big_w - 0.5
    coords = np.stack(np.meshgrid(yy, xx, indexing="ij"))
    flat = fields.reshape(-1, h, w)
    out = np.stack([ndimage.map_coordinates(f, coords, order=3, mode="nearest") for f in flat])
    return out.reshape(*fields.shape[:-2], big_h, big_w).astype(np.float32)


def energy_spectrum(fields: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kinetic energy per wavenumber along the flow in the wake, the channel's downstream half
    (clear of the bodies' sharp edges, where the wake's fine scales are): ``(k, E)`` with ``k``
    in cycles per half-channel length, ``E`` averaged over rows and samples. Each row's u and v
    (solid cells 0) have their mean removed and a Hann window applied (not periodic in x)."""
    f = np.asarray(fields, dtype=np.float64)
    if f.ndim == 3:
        f = f[None]
    m = np.asarray(mask, bool)
    if m.ndim == 2:
        m = m[None]
    half = f.shape[-1] // 2
    f, m = f[..., half:], m[..., half:]
    uv = np.where(m[:, None], 0.0, f[:, :2])
    uv = uv - uv.mean(-1, keepdims=True)
    w = np.hanning(uv.shape[-1])
    spec = np.abs(np.fft.rfft(uv * w, axis=-1)) ** 2
    energy = 0.5 * spec.sum(1).mean(axis=(0, 1))
    return np.arange(len(energy)), energy


def fine_energies(
    pred: np.ndarray, true: np.ndarray, mask: np.ndarray, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per sample, the wake's kinetic energy (:func:`energy_spectrum`) above the coarse grid's
    Nyquist wavenumber, in ``pred`` and in ``true``."""
    n = true.shape[-1] - true.shape[-1] // 2  # the window's length in fine cells
    cut = int(n / (2 * scale))
    ep, et = [], []
    for p, t, m in zip(pred, true, mask, strict=True):
        ep.append(energy_spectrum(p, m[None])[1][cut + 1 :].sum())
        et.append(energy_spectrum(t, m[None])[1][cut + 1 :].sum())
    return np.array(ep), np.array(et)


def fine_scale_energy(pred: np.ndarray, true: np.ndarray, mask: np.ndarray, scale: float) -> float:
    """The fine-scale energy of ``pred`` over that of ``true``, summed over the samples (so a
    smooth flow with next to none does not dominate as a per-sample ratio would): 1, the
    fine scales' energy recovered; below 1, blurred; above 1, invented (noise, artefacts)."""
    ep, et = fine_energies(pred, true, mask, scale)
    return float(ep.sum() / max(et.sum(), 1e-30))


#: PSNR of a perfect prediction (infinite), capped so that means stay finite.
MAX_PSNR = 100.0


def sharpness(pred: np.ndarray, true: np.ndarray, mask: np.ndarray) -> float:
    """The velocity gradients' energy of ``pred`` over that of ``true``, ``sum |grad u|^2``
    over the fluid cells whose central differences stay in the fluid, summed over samples: 1,
    as sharp as the truth; below 1, blurred (shear layers smeared); above 1, spurious
    gradients (noise, checkerboards). Unlike a spectrum it needs no fine scales in the flow:
    a steady wake's shear layers are what blurs."""
    p = np.asarray(pred, np.float64)[:, :2]
    t = np.asarray(true, np.float64)[:, :2]
    m = np.asarray(mask, bool)
    ok = ~m
    ok[:, 1:-1, 1:-1] &= ~m[:, :-2, 1:-1] & ~m[:, 2:, 1:-1] & ~m[:, 1:-1, :-2] & ~m[:, 1:-1, 2:]
    ok[:, [0, -1], :] = False
    ok[:, :, [0, -1]] = False

    def energy(f: np.ndarray) -> float:
        gy, gx = np.gradient(f, axis=(2, 3))
        return float(((gx**2 + gy**2).sum(1) * ok).sum())

    return energy(p) / max(energy(t), 1e-300)


def image_scores(pred: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PSNR (dB, ``10 log10(range^2 / MSE)``, at most :data:`MAX_PSNR`) and SSIM (scikit-image)
    per sample, each the mean over the fields, with the true field's range as the data range."""
    from skimage.metrics import structural_similarity

    psnr, ssim = [], []
    for p, t in zip(pred, true, strict=True):
        ps, ss = [], []
        for pc, tc in zip(p, t, strict=True):
            rng = float(tc.max() - tc.min()) or 1.0
            mse = float(np.mean((tc - pc) ** 2))
            ps.append(MAX_PSNR if mse == 0 else min(MAX_PSNR, 10 * np.log10(rng**2 / mse)))
            ss.append(structural_similarity(tc, pc, data_range=rng))
        psnr.append(np.mean(ps))
        ssim.append(np.mean(ss))
    return np.array(psnr), np.array(ssim)


def score(
    pred: np.ndarray,
    true: np.ndarray,
    mask: np.ndarray,
    re: np.ndarray,
    ref_length: np.ndarray,
    scale: float,
) -> dict[str, np.ndarray]:
    """Every score of predictions ``(N, 3, H, W)`` (solid cells set to 0 here) against the fine
    fields, per sample: ``error``, ``psnr``, ``ssim``, ``sharpness`` (:func:`sharpness`),
    ``fine_pred`` / ``fine_true`` (the
    fine-scale energies, :func:`fine_energies`), ``divergence``,
    ``cd_error`` (relative, against the fine field's control-volume drag; NaN where no control
    volume fits)."""
    mask = np.asarray(mask, bool)
    pred = np.where(mask[:, None], 0.0, np.asarray(pred, dtype=np.float64))
    true = np.asarray(true, dtype=np.float64)
    psnr, ssim = image_scores(pred, true)
    cd_p, cd_t = _drag(pred, mask, re, ref_length), _drag(true, mask, re, ref_length)
    fine_p, fine_t = fine_energies(pred, true, mask, scale)
    grads = [sharpness(pred[i : i + 1], true[i : i + 1], mask[i : i + 1]) for i in range(len(pred))]
    return {
        "sharpness": np.array(grads),
        "error": flow_metrics.relative_velocity_error(pred, true, mask),
        "psnr": psnr,
        "ssim": ssim,
        "fine_pred": fine_p,
        "fine_true": fine_t,
        "divergence": flow_metrics.divergence_residual(pred, mask),
        "cd_error": np.abs(cd_p - cd_t) / np.maximum(np.abs(cd_t), 1e-12),
    }


def _drag(fields, mask, re, ref_length) -> np.ndarray:
    out = np.full(len(fields), np.nan)
    for i in range(len(fields)):
        try:
            out[i] = flow_metrics.force_coefficients(
                fields[i : i + 1], mask[i : i + 1], re[i], ref_length[i]
            )["cd"][0]
        except ValueError:  # the body too near a wall for a control volume
            pass
    return out


def summary(scores: dict[str, np.ndarray]) -> dict[str, float]:
    """Means over samples (NaN-aware for the drag), the error's 95th percentile beside, and the
    fine-scale energy ratio of the sums (:func:`fine_scale_energy`)."""
    out = {
        k: float(np.nanmean(v)) if np.isfinite(v).any() else math.nan
        for k, v in scores.items()
        if not k.startswith("fine_")
    }
    out["fine_energy"] = float(scores["fine_pred"].sum() / max(scores["fine_true"].sum(), 1e-30))
    out["error_p95"] = float(np.percentile(scores["error"], 95))
    out["samples"] = len(scores["error"])
    return out


def ladder_front(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The LBM's cost-error front from rows ``{"label", "seconds", "error"}`` (median seconds
    and mean error of one grid): rows no other beats on both, cheapest first."""
    shaped = [
        {**r, "seconds": {"median": r["seconds"]}, "error_mean": r["error"]}
        for r in rows
        if math.isfinite(r["seconds"]) and math.isfinite(r["error"])
    ]
    return cost_accuracy.pareto(shaped)


def lbm_error_at(front: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """The LBM's mean error at ``seconds`` per sample along ``front`` (log-log), or None and
    why (see :func:`flowlearn.evaluation.cost_accuracy.error_at_time`)."""
    return cost_accuracy.error_at_time(front, seconds)


def lbm_seconds_at(front: list[dict[str, Any]], error: float) -> dict[str, Any]:
    """The LBM's seconds per sample at mean ``error`` along ``front`` (log-log), with its bound
    (see :func:`flowlearn.evaluation.cost_accuracy.time_at_error`)."""
    return cost_accuracy.time_at_error(front, error)
