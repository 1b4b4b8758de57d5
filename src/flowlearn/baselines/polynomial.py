"""Least-squares polynomial regression of one variable, in the scikit-learn shape.

The talk's "representation learning" rung, ``y = sum_i a_i x^i``: its capacity is the order N.
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial import Chebyshev, Polynomial


class PolynomialRegression:
    """Fit ``y = sum_{i=0}^{degree} a_i x^i`` by least squares.

    The fit runs in the Chebyshev basis of a scaled variable (``x`` mapped onto [-1, 1] by its
    training range, :meth:`numpy.polynomial.Chebyshev.fit`), so that high orders stay well
    conditioned: order 19 through 20 random points interpolates them to ~1e-19 where the
    monomial basis leaves ~1e-12. ``coef_`` gives the same polynomial in the plain monomial
    basis of ``x`` for reading.

    Args:
        degree: the order N of the polynomial, >= 0; the capacity knob. With n training points,
            N = n - 1 interpolates them exactly; N = 2 is right for a quadratic law.

    Learned state (after :meth:`fit`):
        series_: the fitted :class:`numpy.polynomial.Chebyshev` series (with its scaled
            domain); :meth:`predict` evaluates it.
        coef_: ``(degree + 1,)`` coefficients ``a_0 .. a_N`` in the monomial basis of ``x``
            (converting from the scaled basis loses accuracy at high order: read them, predict
            with :meth:`predict`).

    Example: ``PolynomialRegression(degree=2).fit(x, y).predict(x_new)``.
    """

    def __init__(self, degree: int = 2) -> None:
        self.degree = degree

    def fit(self, x: np.ndarray, y: np.ndarray) -> PolynomialRegression:
        """Fit on ``x`` ``(n,)`` or ``(n, 1)`` and ``y`` ``(n,)``; returns self."""
        x = _as_1d(x, "x")
        y = np.asarray(y, dtype=float).reshape(-1)
        if isinstance(self.degree, bool) or not isinstance(self.degree, int | np.integer):
            raise TypeError(f"degree must be an integer, got {self.degree!r}")
        if self.degree < 0:
            raise ValueError(f"degree {self.degree} is negative: the lowest is 0 (a constant)")
        if y.shape != x.shape:
            raise ValueError(f"x has {x.size} samples but y has {y.size}: they must match")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise ValueError("x and y must be finite: found NaN or infinity in the training data")
        n_distinct = np.unique(x).size
        if n_distinct < self.degree + 1:
            raise ValueError(
                f"degree {self.degree} needs at least {self.degree + 1} distinct x values to be "
                f"determined, got {n_distinct}: lower the degree or add points"
            )
        self.series_ = Chebyshev.fit(x, y, deg=self.degree)
        coef = self.series_.convert(kind=Polynomial).coef
        self.coef_ = np.zeros(self.degree + 1)
        self.coef_[: coef.size] = coef
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """``(n,)`` predictions at ``x`` of shape ``(n,)`` or ``(n, 1)``."""
        if not hasattr(self, "series_"):
            raise RuntimeError("PolynomialRegression is not fitted yet: call fit(x, y) first")
        return self.series_(_as_1d(x, "x"))


def _as_1d(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1:
        raise ValueError(f"{name} must have shape (n,) or (n, 1), got {x.shape}")
    return x
