"""Algebraic turbulence closures: what a RANS model knows (the mean velocity gradient, k and
epsilon) mapped to what it needs (the Reynolds-stress anisotropy b).

Conventions, the same for every flow flowlearn reads:

- ``grad_u[..., i, j] = dU_i / dx_j`` (OpenFOAM's ``grad(U)`` is the transpose: readers in
  :mod:`flowlearn.data.rans` turn it round).
- One time scale ``k / epsilon`` for every flow. For k-omega inputs, ``epsilon = C_mu k omega``
  with ``C_mu = 0.09`` (:data:`C_MU`), applied where the flow is read.
- Normalised tensors (Ling, Kurzawski & Templeton 2016): ``S = k/eps (G + G^T) / 2`` with its
  trace removed (a finite-difference gradient is not exactly solenoidal), ``R = k/eps (G - G^T)
  / 2``. Where the larger of ``S``'s largest absolute eigenvalue and ``R``'s rotation rate exceeds
  :data:`CAP` (near walls, where ``epsilon`` is small and the RANS time scale blows up), both
  are scaled down by the same factor, which keeps the ratio of rotation to strain and so the
  direction of the closure's answer; :func:`normalised_tensors` returns how many cells it capped.
- Anisotropy from the stresses: ``b = tau / (2k) - I / 3`` with ``k = tr(tau) / 2``, ``tau`` the
  Reynolds stresses ``<u_i' u_j'>``.

Every tensor function works on NumPy arrays and on torch tensors alike (only ``@``, indexing and
arithmetic), so the networks of :mod:`flowlearn.models.turbulence` compute the same invariants
and basis as this module. The eddy-viscosity baselines have scikit-learn's shape: ``fit(X, b)``
and ``predict(X)``, with ``X`` the ``(n, 2, 3, 3)`` stack of ``S`` and ``R``
(:func:`stack_inputs`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The eddy-viscosity constant: LEVM's coefficient and epsilon = C_MU k omega for k-omega inputs.
C_MU = 0.09
#: Largest normalised strain or rotation rate kept (Ling et al.'s code caps at 7 too).
CAP = 7.0
#: Components of a symmetric tensor, in the order reported (b11 b12 b13 b22 b23 b33).
COMPONENTS = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))
COMPONENT_NAMES = ("b11", "b12", "b13", "b22", "b23", "b33")
#: Corners of the barycentric map (Banerjee et al. 2007): one-, two-, three-component turbulence.
CORNERS = {"1C": (1.0, 0.0), "2C": (0.0, 0.0), "3C": (0.5, math.sqrt(3) / 2)}


# ------------------------------------------------------------------------ tensor algebra
def trace(a: Any) -> Any:
    """Trace over the last two axes (NumPy or torch)."""
    return a[..., 0, 0] + a[..., 1, 1] + a[..., 2, 2]


def transpose(a: Any) -> Any:
    return a.swapaxes(-1, -2) if isinstance(a, np.ndarray) else a.transpose(-1, -2)


def deviatoric(a: Any) -> Any:
    """``a - tr(a) I / 3`` (NumPy or torch; a copy)."""
    t = trace(a) / 3
    out = a.copy() if isinstance(a, np.ndarray) else a.clone()
    for i in range(3):
        out[..., i, i] = out[..., i, i] - t
    return out


def invariants(S: Any, R: Any) -> Any:
    """Ling et al.'s five invariants ``(..., 5)``: tr S^2, tr R^2, tr S^3, tr R^2 S,
    tr R^2 S^2."""
    S2, R2 = S @ S, R @ R
    parts = [trace(S2), trace(R2), trace(S2 @ S), trace(R2 @ S), trace(R2 @ S2)]
    if isinstance(S, np.ndarray):
        return np.stack(parts, -1)
    import torch

    return torch.stack(parts, -1)


def basis(S: Any, R: Any) -> Any:
    """Pope's (1975) ten integrity-basis tensors ``(..., 10, 3, 3)``, each symmetric and
    traceless; every symmetric traceless function of S and R is ``sum_n g_n(invariants) T_n``."""
    S2, R2 = S @ S, R @ R
    SR, RS = S @ R, R @ S
    T = [
        S,
        SR - RS,
        deviatoric(S2),
        deviatoric(R2),
        R @ S2 - S2 @ R,
        deviatoric(R2 @ S + S @ R2),
        R @ S @ R2 - R2 @ S @ R,
        S @ R @ S2 - S2 @ R @ S,
        deviatoric(R2 @ S2 + S2 @ R2),
        R @ S2 @ R2 - R2 @ S2 @ R,
    ]
    if isinstance(S, np.ndarray):
        return np.stack(T, -3)
    import torch

    return torch.stack(T, -3)


def magnitude(S: Any, R: Any) -> Any:
    """``sqrt(|S|^2 + |R|^2)`` (Frobenius norms): an invariant size of the velocity gradient."""
    return (trace(S @ transpose(S)) + trace(R @ transpose(R))) ** 0.5


def bounded_basis(S: Any, R: Any) -> Any:
    """Pope's basis of ``S / m`` and ``R / m`` with ``m = 1 + magnitude(S, R)``: every tensor's
    norm stays of order one however large the gradient, so bounded coefficients give a bounded
    b. ``m`` is an invariant, so this is the same family of closures as :func:`basis` (each
    ``T_n`` is divided by ``m`` to the power of its order, which ``g_n(invariants)`` absorbs),
    rotating with the flow exactly; what changes is that a model extrapolating to gradients
    larger than it was trained on cannot multiply its coefficients by a fifth power."""
    m = (1 + magnitude(S, R))[..., None, None]
    return basis(S / m, R / m)


#: A basis tensor whose RMS over the training cells is below this share of the largest one's is
#: absent from the training flows (T5 and T10 vanish in any flow whose gradient is a single
#: shear, U(y, z) alone: channels and RANS ducts): its coefficient cannot be learned there.
DEAD_BASIS = 1e-6


def basis_scales(T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per basis tensor of ``T`` ``(n, 10, 3, 3)``: its RMS Frobenius norm over the cells and
    whether it is present at all (``rms > DEAD_BASIS * max rms``). A learned closure gives an
    absent tensor the coefficient 0 rather than one fitted to rounding noise, which an unseen
    flow where that tensor is not zero would multiply."""
    rms = np.sqrt(np.mean(np.sum(np.asarray(T) ** 2, axis=(-1, -2)), 0))
    active = rms > DEAD_BASIS * rms.max()
    return np.where(active, rms, 1.0), active


# ------------------------------------------------------------------- inputs and labels
@dataclass(frozen=True)
class Inputs:
    """Normalised tensors of a set of cells: ``S``, ``R`` ``(n, 3, 3)`` and how many cells the
    cap scaled down (``capped``)."""

    S: np.ndarray
    R: np.ndarray
    capped: int

    @property
    def X(self) -> np.ndarray:
        return stack_inputs(self.S, self.R)


def rotation_rate(R: np.ndarray) -> np.ndarray:
    """The rotation rate of an antisymmetric R: the modulus of its imaginary eigenvalues."""
    return np.sqrt(np.maximum(0.5 * np.einsum("...ij,...ij->...", R, R), 0.0))


def normalised_tensors(
    grad_u: np.ndarray, k: np.ndarray, epsilon: np.ndarray, cap: float | None = CAP
) -> Inputs:
    """``S`` and ``R`` normalised by ``k / epsilon`` (module docstring), capped at ``cap``
    (None: no cap). ``k`` and ``epsilon`` must be positive: readers check it."""
    grad_u = np.asarray(grad_u, dtype=np.float64)
    k, epsilon = np.asarray(k, dtype=np.float64), np.asarray(epsilon, dtype=np.float64)
    if grad_u.shape[-2:] != (3, 3) or grad_u.shape[:-2] != k.shape or k.shape != epsilon.shape:
        raise ValueError(
            f"grad_u (n, 3, 3), k (n,) and epsilon (n,) expected, got {grad_u.shape}, "
            f"{k.shape}, {epsilon.shape}"
        )
    bad = int(np.sum(~(k > 0)) + np.sum(~(epsilon > 0)))
    if bad:
        raise ValueError(f"{bad} values of k or epsilon are not positive (or not finite)")
    scale = (k / epsilon)[..., None, None]
    S = deviatoric(0.5 * scale * (grad_u + transpose(grad_u)))
    R = 0.5 * scale * (grad_u - transpose(grad_u))
    capped = 0
    if cap is not None:
        size = np.maximum(np.abs(np.linalg.eigvalsh(S)).max(-1), rotation_rate(R))
        factor = np.minimum(1.0, cap / np.maximum(size, 1e-300))
        capped = int(np.sum(factor < 1))
        S, R = S * factor[..., None, None], R * factor[..., None, None]
    return Inputs(S, R, capped)


def stack_inputs(S: np.ndarray, R: np.ndarray) -> np.ndarray:
    """The models' input ``X`` ``(n, 2, 3, 3)``: ``X[:, 0] = S``, ``X[:, 1] = R``."""
    return np.stack([np.asarray(S), np.asarray(R)], axis=-3)


def split_inputs(X: Any) -> tuple[Any, Any]:
    if X.shape[-3:] != (2, 3, 3):
        raise ValueError(f"inputs X of shape (n, 2, 3, 3) (S and R) expected, got {X.shape}")
    return X[..., 0, :, :], X[..., 1, :, :]


def anisotropy(tau: np.ndarray) -> np.ndarray:
    """``b = tau / (2k) - I / 3`` with ``k = tr(tau) / 2``; ValueError where ``k <= 0``."""
    tau = np.asarray(tau, dtype=np.float64)
    k = trace(tau) / 2
    bad = int(np.sum(~(k > 0)))
    if bad:
        raise ValueError(f"{bad} cells have no turbulent kinetic energy (tr(tau) <= 0)")
    return deviatoric(tau / (2 * k[..., None, None]))


def reynolds_stress(b: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``tau = 2k (b + I / 3)``: the Reynolds stresses a RANS solver uses, from b and its k."""
    out = 2 * np.asarray(k)[..., None, None] * np.asarray(b)
    for i in range(3):
        out[..., i, i] += 2 * np.asarray(k) / 3
    return out


def components(b: np.ndarray) -> np.ndarray:
    """The six independent components ``(..., 6)`` in :data:`COMPONENT_NAMES`' order."""
    return np.stack([b[..., i, j] for i, j in COMPONENTS], -1)


# ------------------------------------------------------------------------- realizability
def eigenvalues(b: np.ndarray) -> np.ndarray:
    """Eigenvalues of the symmetric b, largest first ``(..., 3)``."""
    return np.linalg.eigvalsh(np.asarray(b, dtype=np.float64))[..., ::-1]


def realizable(b: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """True where b comes from a positive semi-definite tau: for a traceless b, exactly where its
    smallest eigenvalue is at least -1/3 (then the largest is at most 2/3, every ``b_ii`` lies in
    [-1/3, 2/3] and every ``|b_ij|`` is at most 1/2)."""
    return eigenvalues(b)[..., -1] >= -1 / 3 - tol


def project_realizable(b: np.ndarray) -> np.ndarray:
    """The nearest realizable tensor in the Frobenius norm: the eigenvectors kept, the
    eigenvalues plus 1/3 (non-negative and summing to 1 exactly when realizable) projected onto
    the probability simplex. Realizable tensors are returned unchanged (to rounding)."""
    b = np.asarray(b, dtype=np.float64)
    lam, vec = np.linalg.eigh(b)
    mu = _simplex(lam + 1 / 3)
    return (vec * (mu - 1 / 3)[..., None, :]) @ transpose(vec)


def _simplex(v: np.ndarray) -> np.ndarray:
    """Euclidean projection of each row of ``v (..., m)`` onto {x >= 0, sum x = 1}
    (sort-based; Held, Wolfe & Crowder 1974)."""
    m = v.shape[-1]
    u = -np.sort(-v, axis=-1)
    css = np.cumsum(u, -1) - 1
    idx = np.arange(1, m + 1)
    rho = np.sum(u - css / idx > 0, -1)
    theta = np.take_along_axis(css, (rho - 1)[..., None], -1) / rho[..., None]
    return np.maximum(v - theta, 0.0)


def barycentric(b: np.ndarray) -> np.ndarray:
    """Barycentric-map coordinates ``(..., 2)`` of b (Banerjee et al. 2007): the weights
    C1 = l1 - l2, C2 = 2 (l2 - l3), C3 = 3 l3 + 1 of the corners :data:`CORNERS` (1C, 2C, 3C)."""
    lam = eigenvalues(b)
    c1, c2, c3 = lam[..., 0] - lam[..., 1], 2 * (lam[..., 1] - lam[..., 2]), 3 * lam[..., 2] + 1
    corners = np.array(list(CORNERS.values()))
    return c1[..., None] * corners[0] + c2[..., None] * corners[1] + c3[..., None] * corners[2]


# ----------------------------------------------------------------- eddy-viscosity models
class EddyViscosity:
    """Shared scikit-learn shape of the algebraic closures: nothing to fit."""

    name = "eddy viscosity"

    def fit(self, X: np.ndarray, b: np.ndarray | None = None) -> EddyViscosity:
        split_inputs(np.asarray(X))
        return self

    def coefficients(self, S: np.ndarray, R: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def predict(self, X: np.ndarray) -> np.ndarray:
        """b ``(n, 3, 3)`` for inputs ``X`` ``(n, 2, 3, 3)``."""
        S, R = split_inputs(np.asarray(X, dtype=np.float64))
        g = self.coefficients(S, R)
        return np.einsum("...n,...nij->...ij", g, basis(S, R))


class LinearEddyViscosity(EddyViscosity):
    """Boussinesq: ``b = -C_mu S`` (``tau = 2k/3 I - 2 nu_t S`` with ``nu_t = C_mu k^2 /
    epsilon``). It cannot give a square duct's secondary flow: for ``U(y, z)``, ``S_yy = S_zz =
    0``, so ``b22 - b33 = 0``."""

    name = "LEVM"

    def __init__(self, c_mu: float = C_MU) -> None:
        self.c_mu = c_mu

    def coefficients(self, S: np.ndarray, R: np.ndarray) -> np.ndarray:
        g = np.zeros((*S.shape[:-2], 10))
        g[..., 0] = -self.c_mu
        return g


def cls_c_mu(S: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Craft, Launder & Suga's (1996) strain-dependent ``c_mu = 0.3 (1 - exp(-0.36 exp(0.75
    eta))) / (1 + 0.35 eta^1.5)`` with ``eta = max(S~, W~)``, ``S~ = sqrt(2 S:S)``, ``W~ =
    sqrt(2 R:R)`` in normalised tensors (0.09 in a log layer, where eta is about 3.3)."""
    s = np.sqrt(2 * np.einsum("...ij,...ij->...", S, S))
    w = np.sqrt(2 * np.einsum("...ij,...ij->...", R, R))
    eta = np.maximum(s, w)
    return 0.3 * (1 - np.exp(-0.36 * np.exp(np.minimum(0.75 * eta, 50.0)))) / (1 + 0.35 * eta**1.5)


class QuadraticEddyViscosity(EddyViscosity):
    """The quadratic part of Craft, Launder & Suga's (1996) non-linear eddy-viscosity model.

    In their notation (``S_ij`` and ``Omega_ij`` twice the usual strain and rotation tensors),
    ``uu/k - 2/3 I = -nu_t/k S + c1 nu_t/eps (S S - S:S I / 3) + c2 nu_t/eps (Omega S - S
    Omega) + c3 nu_t/eps (-Omega Omega + Omega:Omega I / 3)``, ``c1 = -0.1, c2 = 0.1, c3 =
    0.26``. With ``nu_t = c_mu k^2 / eps`` this is, on Pope's basis of normalised tensors,
    ``g1 = -c_mu, g2 = -2 c2 c_mu, g3 = 2 c1 c_mu, g4 = -2 c3 c_mu``. ``c_mu``: CLS's
    strain-dependent function (:func:`cls_c_mu`), or a constant when ``c_mu`` is given. In simple
    shear it orders the normal stresses as a channel's DNS does (uu > ww > vv), and in a duct the
    unequal cross-stream gradients give ``b22 != b33``: the secondary flow's driver.
    """

    name = "QEVM"

    def __init__(
        self, c1: float = -0.1, c2: float = 0.1, c3: float = 0.26, c_mu: float | None = None
    ) -> None:
        self.c1, self.c2, self.c3, self.c_mu = c1, c2, c3, c_mu

    def coefficients(self, S: np.ndarray, R: np.ndarray) -> np.ndarray:
        cmu = cls_c_mu(S, R) if self.c_mu is None else np.full(S.shape[:-2], self.c_mu)
        g = np.zeros((*S.shape[:-2], 10))
        g[..., 0] = -cmu
        g[..., 1] = -2 * self.c2 * cmu
        g[..., 2] = 2 * self.c1 * cmu
        g[..., 3] = -2 * self.c3 * cmu
        return g
