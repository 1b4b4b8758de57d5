"""The cheap learned competitor of the TBNN: a tensor-basis random forest through scikit-learn.

Kaandorp & Dwight (Computers & Fluids, 2020) grow trees on the invariants whose leaves hold the
basis coefficients ``g`` that fit the leaf's b best. This version keeps their tensor-basis form
and their inputs with scikit-learn's own forest: each training cell gets the ``g`` that fits its
own b best (a ridge-regularised least-squares fit over the ten scaled basis tensors: the basis
is rank-deficient in two-dimensional flows, where only four tensors are independent), and a
``RandomForestRegressor`` learns invariants -> ``g``. Its prediction is ``sum_n g_n T_n`` over
the TBNN's bounded basis (:func:`~flowlearn.physics.turbulence.bounded_basis`), so it rotates
with the flow exactly as the TBNN's does. Averaging per-cell fits in a leaf is not the leaf's
own least-squares fit (Kaandorp's split criterion): it is cheaper and noisier.
"""

from __future__ import annotations

import numpy as np

from flowlearn.physics import turbulence as turb


def _features(S: np.ndarray, R: np.ndarray) -> np.ndarray:
    lam = turb.invariants(S, R)
    return np.sign(lam) * np.log1p(np.abs(lam))


class TensorBasisForest:
    """Tensor-basis random forest (module docstring), scikit-learn's shape: ``fit(X, b)`` and
    ``predict(X)`` with ``X`` ``(n, 2, 3, 3)`` and ``b`` ``(n, 3, 3)``."""

    name = "TBRF"

    def __init__(
        self,
        n_estimators: int = 100,
        min_samples_leaf: int = 5,
        max_features: float = 1.0,
        ridge: float = 1e-3,
        seed: int = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.n_estimators, self.min_samples_leaf = n_estimators, min_samples_leaf
        self.max_features, self.ridge, self.seed, self.n_jobs = max_features, ridge, seed, n_jobs

    def _scaled_basis(self, S: np.ndarray, R: np.ndarray) -> np.ndarray:
        return turb.bounded_basis(S, R) * (self.active_ / self.scale_)[:, None, None]

    def cell_coefficients(self, X: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Per cell, the ridge least-squares ``g`` ``(n, 10)`` of the scaled basis."""
        S, R = turb.split_inputs(np.asarray(X, dtype=np.float64))
        A = self._scaled_basis(S, R).reshape(len(S), 10, 9)  # (n, basis, components)
        gram = A @ A.swapaxes(1, 2) + self.ridge * np.eye(10)
        rhs = A @ np.asarray(b, dtype=np.float64).reshape(len(S), 9, 1)
        return np.linalg.solve(gram, rhs)[..., 0]

    def fit(self, X: np.ndarray, b: np.ndarray) -> TensorBasisForest:
        from sklearn.ensemble import RandomForestRegressor

        X = np.asarray(X, dtype=np.float64)
        S, R = turb.split_inputs(X)
        self.scale_, active = turb.basis_scales(turb.bounded_basis(S, R))
        self.active_ = active.astype(np.float64)
        g = self.cell_coefficients(X, b)
        self.forest_ = RandomForestRegressor(
            n_estimators=self.n_estimators,
            min_samples_leaf=self.min_samples_leaf,
            max_features=self.max_features,
            random_state=self.seed,
            n_jobs=self.n_jobs,
        ).fit(_features(S, R), g)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        if not hasattr(self, "forest_"):
            raise RuntimeError("TensorBasisForest.predict before fit")
        S, R = turb.split_inputs(np.asarray(X, dtype=np.float64))
        g = self.forest_.predict(_features(S, R)).reshape(len(S), 10)
        return np.einsum("nk,nkij->nij", g, self._scaled_basis(S, R))
