"""Modal decompositions of flow snapshots in the scikit-learn shape: proper orthogonal
decomposition (:class:`POD`, a thin SVD) and dynamic mode decomposition (:class:`DMD`, PyDMD's).

Snapshots are an array ``(n_snapshots, *shape)``: any spatial shape and channels (``(n, 2, ny,
nx)`` for u and v), flattened inside and given back in the same shape. Both check what they are
fed and say what is wrong: NaN or inf, a single snapshot, more modes than snapshots, snapshots of
another shape than the fit's, and (DMD) time steps that are not uniform.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

from flowlearn.safety.memory import require_memory


def _snapshots(x: np.ndarray, what: str, minimum: int = 2) -> np.ndarray:
    """``x`` as float64 ``(n, *shape)``, checked: at least ``minimum`` snapshots, finite."""
    x = np.asarray(x, dtype=float)
    if x.ndim < 2:
        raise ValueError(
            f"{what}: snapshots must be an array (n_snapshots, *shape), got shape {x.shape}"
        )
    if len(x) < minimum:
        raise ValueError(
            f"{what}: {len(x)} snapshot(s); at least {minimum} are needed"
            + (" (a single snapshot has no variance to decompose)" if minimum == 2 else "")
        )
    bad = ~np.isfinite(x.reshape(len(x), -1))
    if bad.any():
        first = int(np.flatnonzero(bad.any(axis=1))[0])
        raise ValueError(
            f"{what}: NaN or inf in {int(bad.any(axis=1).sum())} snapshot(s), the first at index "
            f"{first}: fill or drop them (solid cells: use 0)"
        )
    return x


def _check_shape(x: np.ndarray, shape: tuple[int, ...], what: str) -> None:
    if tuple(x.shape[1:]) != tuple(shape):
        raise ValueError(
            f"{what}: snapshots of shape {tuple(x.shape[1:])}, but the fit's were {tuple(shape)}"
        )


def _n_modes(n_modes: int | None, available: int, what: str) -> None:
    if n_modes is None:
        return
    if isinstance(n_modes, bool) or not isinstance(n_modes, int | np.integer) or n_modes < 1:
        raise ValueError(f"{what}: n_modes must be a positive integer, got {n_modes!r}")
    if n_modes > available:
        raise ValueError(
            f"{what}: {n_modes} modes asked for, but {available} snapshots give at most "
            f"{available}: lower n_modes or add snapshots"
        )


class POD:
    """Proper orthogonal decomposition: the orthonormal spatial modes that capture the most
    fluctuation energy of the snapshots, by a thin SVD of the (mean-subtracted) snapshot matrix.

    Args:
        n_modes: modes kept; None keeps the smallest number whose energy fraction reaches
            ``energy``.
        energy: the energy fraction kept when ``n_modes`` is None, in (0, 1] (default 0.99).
        center: subtract the temporal mean first (the usual POD of fluctuations).

    Learned state (after :meth:`fit`):
        mean_: ``shape`` temporal mean (zeros without centring).
        modes_: ``(n_modes_, *shape)`` orthonormal modes (over all cells and channels).
        singular_values_: ``(r,)`` all of them, largest first.
        energy_: ``(r,)`` each mode's fraction of the fluctuation energy (sums to 1).
        n_modes_: the modes kept.

    Example: ``a = POD(n_modes=4).fit(x).transform(x); x_hat = pod.inverse_transform(a)``.
    """

    def __init__(self, n_modes: int | None = None, energy: float = 0.99, center: bool = True):
        self.n_modes = n_modes
        self.energy = energy
        self.center = center

    def fit(self, x: np.ndarray) -> POD:
        """Fit on snapshots ``(n, *shape)``; returns self."""
        if not (0.0 < self.energy <= 1.0):
            raise ValueError(f"POD: energy {self.energy} must lie in (0, 1]")
        x = _snapshots(x, "POD")
        n = len(x)
        flat = x.reshape(n, -1)
        _n_modes(self.n_modes, n, "POD")
        require_memory(3 * flat.nbytes, f"the POD of {n} snapshots", "use fewer snapshots")
        self.mean_ = (flat.mean(axis=0) if self.center else np.zeros(flat.shape[1])).reshape(
            x.shape[1:]
        )
        _, s, vt = np.linalg.svd(flat - self.mean_.reshape(-1), full_matrices=False)
        total = float((s**2).sum())
        if total == 0.0:
            raise ValueError("POD: the snapshots do not vary: there is nothing to decompose")
        self.singular_values_ = s
        self.energy_ = s**2 / total
        if self.n_modes is None:
            cumulative = np.cumsum(self.energy_)
            self.n_modes_ = int(np.searchsorted(cumulative, self.energy - 1e-12) + 1)
        else:
            self.n_modes_ = int(self.n_modes)
        self.modes_ = vt[: self.n_modes_].reshape(self.n_modes_, *x.shape[1:])
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Mode amplitudes ``(n, n_modes_)`` of snapshots ``(n, *shape)``."""
        x = _snapshots(x, "POD.transform", minimum=1)
        _check_shape(x, self.mean_.shape, "POD.transform")
        flat = (x - self.mean_).reshape(len(x), -1)
        return flat @ self.modes_.reshape(self.n_modes_, -1).T

    def inverse_transform(self, amplitudes: np.ndarray) -> np.ndarray:
        """Snapshots ``(n, *shape)`` from amplitudes ``(n, k)``, ``k <= n_modes_`` (the first
        ``k`` modes)."""
        a = np.atleast_2d(np.asarray(amplitudes, dtype=float))
        k = a.shape[1]
        if k > self.n_modes_:
            raise ValueError(f"POD.inverse_transform: {k} amplitudes, {self.n_modes_} modes")
        flat = a @ self.modes_[:k].reshape(k, -1) + self.mean_.reshape(-1)
        return flat.reshape(len(a), *self.mean_.shape)

    def fit_transform(self, x: np.ndarray) -> np.ndarray:
        return self.fit(x).transform(x)


def optimal_amplitudes(phi: np.ndarray, eigs: np.ndarray, data: np.ndarray) -> np.ndarray:
    """The amplitudes ``b`` minimising ``||data - phi diag(b) V||_F`` with ``V`` the
    Vandermonde matrix of ``eigs`` over the ``n`` snapshots (Jovanović, Schmid & Nichols, Phys.
    Fluids 2014): ``P b = q`` with ``P = (phi^H phi) * conj(V V^H)`` and ``q = conj(diag(V
    data^H phi))``. ``phi`` ``(m, r)``, ``data`` ``(m, n)``."""
    n = data.shape[1]
    vand = eigs[:, None] ** np.arange(n)[None, :]
    p = (phi.conj().T @ phi) * (vand @ vand.conj().T).conj()
    q = np.einsum("rn,rn->r", vand.conj(), phi.conj().T @ data)
    return np.linalg.solve(p, q)


class DMD:
    """Dynamic mode decomposition (exact DMD, Tu et al. 2014) through PyDMD: modes that each
    oscillate at one frequency and grow or decay at one rate, fitted to equally spaced
    snapshots; they reconstruct and forecast.

    Args:
        n_modes: the SVD rank (None: PyDMD's optimal hard threshold).
        dt: the time between snapshots (the frequencies are in its inverse unit).
        optimal_amplitudes: fit the amplitudes to all snapshots in the least-squares sense
            (Jovanović, Schmid & Nichols 2014), not to the first alone; steadier for noisy data.

    Learned state (after :meth:`fit`):
        eigs_: ``(r,)`` discrete-time eigenvalues; frequencies_ ``(r,)`` (``Im log(eig) /
        (2 pi dt)``) and growth_rates_ ``(r,)`` (``Re log(eig) / dt``); modes_ ``(r, *shape)``
        (complex); amplitudes_ ``(r,)``; t0_ the time of the first snapshot.

    Example: ``d = DMD(n_modes=4, dt=0.1).fit(x); d.frequencies_; d.predict(t_future)``.
    """

    def __init__(
        self, n_modes: int | None = None, dt: float = 1.0, optimal_amplitudes: bool = True
    ):
        self.n_modes = n_modes
        self.dt = dt
        self.optimal_amplitudes = optimal_amplitudes

    def fit(self, x: np.ndarray, t: Sequence[float] | None = None) -> DMD:
        """Fit on snapshots ``(n, *shape)`` taken at times ``t`` (default ``k dt``); ``t``
        must be equally spaced (DMD's one step)."""
        from pydmd import DMD as PyDMD

        x = _snapshots(x, "DMD", minimum=3)
        n = len(x)
        if not (isinstance(self.dt, int | float) and math.isfinite(self.dt) and self.dt > 0):
            raise ValueError(f"DMD: dt {self.dt!r} must be a positive number")
        if t is None:
            t = np.arange(n) * float(self.dt)
        t = np.asarray(t, dtype=float)
        if t.shape != (n,):
            raise ValueError(f"DMD: {t.size} times for {n} snapshots")
        steps = np.diff(t)
        if np.any(steps <= 0) or not np.allclose(steps, steps[0], rtol=1e-6, atol=0.0):
            raise ValueError(
                f"DMD: the time steps are not uniform (from {steps.min():.6g} to "
                f"{steps.max():.6g}): DMD needs snapshots equally spaced in time; resample them"
            )
        self.dt = float(steps[0])
        _n_modes(self.n_modes, n - 1, "DMD")
        flat = x.reshape(n, -1)
        require_memory(4 * flat.nbytes, f"the DMD of {n} snapshots", "use fewer snapshots")
        model = PyDMD(svd_rank=self.n_modes or 0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # PyDMD's condition-number advice
            model.fit(flat.T)
        self.eigs_ = np.asarray(model.eigs)
        log = np.log(self.eigs_.astype(complex))
        self.frequencies_ = log.imag / (2 * np.pi * self.dt)
        self.growth_rates_ = log.real / self.dt
        phi = np.asarray(model.modes)
        self.modes_ = phi.T.reshape(len(self.eigs_), *x.shape[1:])
        self.amplitudes_ = (
            optimal_amplitudes(phi, self.eigs_, flat.T)
            if self.optimal_amplitudes
            else np.asarray(model.amplitudes)
        )
        self.t0_ = float(t[0])
        self._shape = x.shape[1:]
        return self

    def _dynamics(self, t: np.ndarray) -> np.ndarray:
        k = (np.asarray(t, dtype=float) - self.t0_) / self.dt
        return self.amplitudes_[:, None] * self.eigs_[:, None] ** k[None, :]

    def predict(self, t: Sequence[float]) -> np.ndarray:
        """The snapshots the modes give at times ``t`` (reconstruction inside the fitted window,
        forecast beyond it): real ``(len(t), *shape)``."""
        dyn = self._dynamics(np.atleast_1d(t))
        flat = (self.modes_.reshape(len(self.eigs_), -1).T @ dyn).real.T
        return flat.reshape(len(dyn.T), *self._shape)

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Complex mode amplitudes ``(n, r)`` of snapshots ``(n, *shape)`` (least squares)."""
        x = _snapshots(x, "DMD.transform", minimum=1)
        _check_shape(x, self._shape, "DMD.transform")
        phi = self.modes_.reshape(len(self.eigs_), -1).T
        coef, *_ = np.linalg.lstsq(phi, x.reshape(len(x), -1).T.astype(complex), rcond=None)
        return coef.T

    def inverse_transform(self, amplitudes: np.ndarray) -> np.ndarray:
        """Real snapshots ``(n, *shape)`` from complex amplitudes ``(n, r)``."""
        a = np.atleast_2d(np.asarray(amplitudes, dtype=complex))
        flat = (a @ self.modes_.reshape(len(self.eigs_), -1)).real
        return flat.reshape(len(a), *self._shape)
