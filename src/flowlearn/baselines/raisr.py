"""RAISR: a cheap learned super-resolution of flow fields, the baseline the networks must beat.

RAISR (Romano, Isidoro & Milanfar, "RAISR: Rapid and Accurate Image Super Resolution", IEEE
Transactions on Computational Imaging 3(1), 2017) upsamples in two steps: a cheap interpolator
(here bicubic, i.e. a cubic spline, :func:`cubic_upsample`) and then, at every output pixel, a
small linear filter over the ``d x d`` patch of the cheap upscale around it. The filter is picked
from a bank by hashing the local gradient structure of the cheap upscale: the angle of the
dominant gradient direction (``angles`` uniform bins over [0, pi)), its strength and its
coherence (``strengths`` and ``coherences`` bins, edges at the training data's quantiles), all
from the eigen-decomposition of the Gaussian-weighted 2x2 structure tensor over the patch, and by
the pixel's type, its position modulo the scale factor (``scale**2`` types). Each filter is a
least-squares fit over its bucket's training patches; a bucket with fewer than ``d * d`` samples
keeps the identity filter (the cheap upscale is left as it is there).

It is the cheap *learned* baseline: a super-resolution network that does not beat it clearly
has not learned much beyond local gradient-dependent sharpening, and one that does not beat
:func:`cubic_upsample` has learned nothing. Fitting is a single pass of accumulated normal
equations (seconds), prediction a gather and a dot product per pixel.

Data conventions (those of the flow surrogates): fields are float arrays ``(N, C, ny, nx)``,
channels such as ``(u, v, p)``, one filter bank per channel; the coarse fields ``(N, C, h, w)``
and the fine ``(N, C, h * scale, w * scale)`` share the domain on cell-centred grids (fine pixel
``i`` lies at coarse coordinate ``(i + 0.5) / scale - 0.5``, e.g. coarse = block means of fine);
an optional ``mask`` ``(N, ny, nx)`` on the fine grid is True in solid cells (a body), which are
not used as training targets. Everything is computed in float64; :meth:`Raisr.predict` returns
float32 for float32 input.

Example::

    model = Raisr(scale=4).fit(coarse_train, fine_train, mask=solid_train)
    fine_pred = model.predict(coarse_test)
    model.save("raisr_x4.npz")
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage

from flowlearn.safety.memory import require_memory

__all__ = ["Raisr", "cubic_upsample"]

_FORMAT = "flowlearn.baselines.raisr/1"
_EPS = 1e-12
_RIDGE = 1e-3  # lambda = _RIDGE * trace(Q) / d^2: a small pull towards the identity filter
_CHUNK_VALUES = 1 << 22  # float64 values per working chunk (32 MiB)


def cubic_upsample(coarse: np.ndarray, scale: int, shape: tuple[int, int]) -> np.ndarray:
    """Upsample ``coarse`` ``(..., h, w)`` to ``(..., H, W)`` with ``(H, W) = shape`` by cubic
    spline interpolation (:func:`scipy.ndimage.map_coordinates`, ``order=3``,
    ``mode='nearest'``) on cell-centred grids: fine pixel ``i`` samples the coarse coordinate
    ``(i + 0.5) / scale - 0.5``. Any leading dimensions; float input keeps its dtype, other
    input becomes float64."""
    x = np.asarray(coarse)
    if x.ndim < 2:
        raise ValueError(f"coarse must be an array (..., h, w), got shape {x.shape}")
    if isinstance(scale, bool) or not isinstance(scale, int | np.integer) or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    if len(shape) != 2 or any(int(n) < 1 for n in shape):
        raise ValueError(f"shape must be two positive sizes (H, W), got {shape!r}")
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    big_h, big_w = int(shape[0]), int(shape[1])
    h, w = x.shape[-2:]
    ys = (np.arange(big_h) + 0.5) / scale - 0.5
    xs = (np.arange(big_w) + 0.5) / scale - 0.5
    coords = np.stack(np.meshgrid(ys, xs, indexing="ij"))
    flat = x.reshape(-1, h, w)
    out = np.empty((flat.shape[0], big_h, big_w), dtype=x.dtype)
    for m in range(flat.shape[0]):
        ndimage.map_coordinates(flat[m], coords, output=out[m], order=3, mode="nearest")
    return out.reshape(*x.shape[:-2], big_h, big_w)


def _fields(x: np.ndarray, name: str) -> np.ndarray:
    """``x`` as a finite float64 array ``(N, C, ny, nx)`` with N >= 1, or a ValueError."""
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"{name} must be an array (N, C, ny, nx), got shape {x.shape}")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise ValueError(f"{name} must hold real numbers, got dtype {x.dtype}")
    if x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"{name} has no samples or no channels: shape {x.shape}")
    x = x.astype(np.float64, copy=False)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} holds NaN or inf: RAISR needs finite fields")
    return x


def _bins(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Bin index of ``values`` ``(C, ...)`` between the per-channel ``edges`` ``(C, k)``."""
    return np.stack(
        [np.searchsorted(e, v, side="right") for e, v in zip(edges, values, strict=True)]
    )


def _check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


@dataclass
class Raisr:
    """RAISR super-resolution by ``scale``: cubic spline upsampling, then per pixel a learned
    ``patch x patch`` filter chosen by pixel type and hashed gradient structure.

    Args:
        scale: the upsampling factor s (>= 2); a fitted model only upsamples by s.
        patch: the filter size d (odd, >= 3); also the window of the structure tensor.
        angles, strengths, coherences: the number of hash bins of the gradient angle (uniform
            over [0, pi)), the strength and the coherence (edges at training quantiles).

    Learned state (after :meth:`fit`, or :meth:`load`):
        filters: ``(channels, scale**2, angles, strengths, coherences, d*d)``, row-major over
            the patch; a filter is applied to the cheap (cubic) upscale.
        strength_edges: ``(channels, strengths - 1)`` bin edges of sqrt(l1).
        coherence_edges: ``(channels, coherences - 1)`` bin edges of the coherence.
        counts: ``(channels, scale**2, angles, strengths, coherences)`` training samples per
            bucket; buckets with fewer than ``d * d`` keep the identity filter.
    """

    scale: int
    patch: int = 7
    angles: int = 24
    strengths: int = 3
    coherences: int = 3
    filters: np.ndarray | None = None
    strength_edges: np.ndarray | None = None
    coherence_edges: np.ndarray | None = None
    counts: np.ndarray | None = None

    def __post_init__(self) -> None:
        self._check_settings()
        learned = (self.filters, self.strength_edges, self.coherence_edges, self.counts)
        if any(x is None for x in learned) and any(x is not None for x in learned):
            raise ValueError(
                "give all four learned arrays (filters, strength_edges, coherence_edges, "
                "counts) or none"
            )
        if learned[0] is not None:
            self._check_fitted()

    def _check_settings(self) -> None:
        if isinstance(self.scale, bool) or not isinstance(self.scale, int | np.integer):
            raise ValueError(f"scale must be an integer >= 2, got {self.scale!r}")
        if self.scale < 2:
            raise ValueError(f"scale must be >= 2 (an upsampling factor), got {self.scale}")
        patch = _check_int(self.patch, "patch", 3)
        if patch % 2 == 0:
            raise ValueError(f"patch must be odd (a centred d x d window), got {patch}")
        _check_int(self.angles, "angles", 1)
        _check_int(self.strengths, "strengths", 1)
        _check_int(self.coherences, "coherences", 1)

    # -- shapes ---------------------------------------------------------------------------

    @property
    def _bank_shape(self) -> tuple[int, int, int, int]:
        return (self.scale**2, self.angles, self.strengths, self.coherences)

    @property
    def _n_buckets(self) -> int:
        return int(np.prod(self._bank_shape))

    @property
    def _min_samples(self) -> int:
        return self.patch * self.patch

    # -- the hash ---------------------------------------------------------------------------

    def _features(self, up: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Angle bin, strength and coherence of every pixel of ``up`` ``(C, H, W)``, from the
        Gaussian-weighted structure tensor of its gradients over the ``d x d`` patch."""
        gy, gx = np.gradient(up, axis=(-2, -1))
        radius = self.patch // 2
        sigma = (0.0, radius / 2, radius / 2)  # truncate=2: the kernel covers exactly the patch

        def weigh(x: np.ndarray) -> np.ndarray:
            return ndimage.gaussian_filter(x, sigma=sigma, truncate=2.0, mode="mirror")

        a, b, c = weigh(gx * gx), weigh(gx * gy), weigh(gy * gy)
        half_trace = 0.5 * (a + c)
        disc = np.sqrt((0.5 * (a - c)) ** 2 + b * b)
        l1 = np.sqrt(np.maximum(half_trace + disc, 0.0))
        l2 = np.sqrt(np.maximum(half_trace - disc, 0.0))
        theta = np.mod(0.5 * np.arctan2(2.0 * b, a - c), np.pi)  # dominant eigenvector
        angle = np.minimum((theta * (self.angles / np.pi)).astype(np.int64), self.angles - 1)
        return angle, l1, (l1 - l2) / (l1 + l2 + _EPS)

    def _buckets(self, up: np.ndarray, strength_edges, coherence_edges) -> np.ndarray:
        """Flat bucket index ``(C, H, W)`` of every pixel of ``up`` ``(C, H, W)``."""
        angle, strength, coherence = self._features(up)
        s_bin = _bins(strength_edges, strength)
        c_bin = _bins(coherence_edges, coherence)
        big_h, big_w = up.shape[-2:]
        s = self.scale
        kind = (np.arange(big_h)[:, None] % s) * s + np.arange(big_w)[None, :] % s
        return ((kind * self.angles + angle) * self.strengths + s_bin) * self.coherences + c_bin

    def _padded(self, up: np.ndarray) -> np.ndarray:
        r = self.patch // 2
        return np.pad(up, ((0, 0), (r, r), (r, r)), mode="reflect")

    # -- fit --------------------------------------------------------------------------------

    def fit(
        self,
        coarse: np.ndarray,
        fine: np.ndarray,
        mask: np.ndarray | None = None,
        max_patches: int = 2_000_000,
        seed: int = 0,
    ) -> Raisr:
        """Learn the filter banks from ``coarse`` ``(N, C, h, w)`` and ``fine``
        ``(N, C, h * scale, w * scale)``; ``mask`` ``(N, H, W)`` is True in solid cells, which
        are not training targets. At most ``max_patches`` target pixels (the same ones for
        every channel, a uniform random subset drawn with ``seed``) are used. Returns self."""
        self._check_settings()
        coarse = _fields(coarse, "coarse")
        fine = _fields(fine, "fine")
        max_patches = _check_int(max_patches, "max_patches", 1)
        n, n_ch, h, w = coarse.shape
        s, d = self.scale, self.patch
        if fine.shape != (n, n_ch, h * s, w * s):
            raise ValueError(
                f"fine {fine.shape} must be scale={s} times coarse {coarse.shape}: expected "
                f"{(n, n_ch, h * s, w * s)}"
            )
        big_h, big_w = h * s, w * s
        if mask is None:
            valid = np.full((n, big_h, big_w), True)
        else:
            mask = np.asarray(mask)
            if mask.shape != (n, big_h, big_w):
                raise ValueError(
                    f"mask {mask.shape} must be (N, H, W) = {(n, big_h, big_w)}, the fine grid"
                )
            if mask.dtype != bool:
                raise ValueError(f"mask must be boolean (True = solid), got dtype {mask.dtype}")
            valid = ~mask
        per_image = valid.reshape(n, -1).sum(axis=1)
        total = int(per_image.sum())
        if total < 1:
            raise ValueError("no training samples: every fine pixel is solid under the mask")
        n_patches = min(total, max_patches)

        n_buckets, dd = self._n_buckets, d * d
        chunk_rows = max(1, _CHUNK_VALUES // (n_ch * dd))  # patches per channel per chunk
        buffer_rows = min(n_patches, chunk_rows + big_h * big_w)
        need = 8 * (
            n_ch * n_buckets * (dd * dd + 2 * dd + 1)  # Q, V, filters, counts
            + n_patches * (1 + n_ch)  # the chosen pixels, their strengths and coherences
            + (2 * n_ch + 1) * buffer_rows * (dd + 2)  # a chunk of patches, joined and sorted
            + 30 * n_ch * (big_h + d) * (big_w + d)  # one image's upscale and hash
        )
        require_memory(
            need,
            f"the RAISR fit ({n_ch} channels x {n_buckets} buckets of {d}x{d} filters, "
            f"{n_patches} patches)",
            "use a smaller patch, fewer hash bins or a smaller max_patches",
        )

        # the training pixels: all, or a uniform subset without replacement
        rng = np.random.default_rng(seed)
        if n_patches == total:
            take = per_image
        else:
            take = rng.multivariate_hypergeometric(per_image, n_patches)
        chosen = []
        for i in range(n):
            where = np.flatnonzero(valid[i])
            if take[i] < where.size:
                where = np.sort(rng.choice(where, size=int(take[i]), replace=False))
            chosen.append(where)

        # pass 1: strength and coherence bin edges at the training pixels' quantiles
        strength = np.empty((n_ch, n_patches), dtype=np.float32)
        coherence = np.empty((n_ch, n_patches), dtype=np.float32)
        at = 0
        for i in range(n):
            up = cubic_upsample(coarse[i], s, (big_h, big_w))
            _, st, co = self._features(up)
            k = chosen[i].size
            strength[:, at : at + k] = st.reshape(n_ch, -1)[:, chosen[i]]
            coherence[:, at : at + k] = co.reshape(n_ch, -1)[:, chosen[i]]
            at += k
        strength_edges = np.quantile(
            strength, np.arange(1, self.strengths) / self.strengths, axis=1
        ).T.reshape(n_ch, self.strengths - 1)
        coherence_edges = np.quantile(
            coherence, np.arange(1, self.coherences) / self.coherences, axis=1
        ).T.reshape(n_ch, self.coherences - 1)
        del strength, coherence

        # pass 2: normal equations per bucket, of the residual fine - cheap upscale
        gram = np.zeros((n_ch, n_buckets, dd, dd))
        rhs = np.zeros((n_ch, n_buckets, dd))
        counts = np.zeros((n_ch, n_buckets), dtype=np.int64)
        pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        rows = 0
        for i in range(n):
            up = cubic_upsample(coarse[i], s, (big_h, big_w))
            bucket = self._buckets(up, strength_edges, coherence_edges)
            bucket = bucket.reshape(n_ch, -1)[:, chosen[i]]
            yy, xx = np.divmod(chosen[i], big_w)
            windows = sliding_window_view(self._padded(up), (d, d), axis=(-2, -1))
            patches = windows[:, yy, xx].reshape(n_ch, -1, dd)
            residual = fine[i][:, yy, xx] - up[:, yy, xx]
            pending.append((bucket, patches, residual))
            rows += chosen[i].size
            if rows >= chunk_rows or i == n - 1:
                self._accumulate(pending, gram, rhs, counts)
                pending, rows = [], 0

        # solve (Q + lambda I) g = V for the residual filter g; the filter is identity + g
        identity = np.zeros(dd)
        identity[dd // 2] = 1.0
        filters = np.tile(identity, (n_ch, n_buckets, 1))
        per_solve = max(1, _CHUNK_VALUES // (dd * dd))  # buckets solved at once
        for c in range(n_ch):
            ok = np.flatnonzero(counts[c] >= self._min_samples)
            for start in range(0, ok.size, per_solve):
                sel = ok[start : start + per_solve]
                q = gram[c, sel]
                lam = _RIDGE * np.trace(q, axis1=1, axis2=2) / dd
                lam = np.where(lam > 0, lam, 1.0)
                q = q + lam[:, None, None] * np.eye(dd)
                filters[c, sel] += np.linalg.solve(q, rhs[c, sel][..., None])[..., 0]
        self.filters = filters.reshape(n_ch, *self._bank_shape, dd)
        self.counts = counts.reshape(n_ch, *self._bank_shape)
        self.strength_edges, self.coherence_edges = strength_edges, coherence_edges
        return self

    @staticmethod
    def _accumulate(pending, gram, rhs, counts) -> None:
        """Add the pending chunk's patches to the per-bucket normal equations."""
        bucket = np.concatenate([p[0] for p in pending], axis=1)
        patches = np.concatenate([p[1] for p in pending], axis=1)
        residual = np.concatenate([p[2] for p in pending], axis=1)
        for c in range(bucket.shape[0]):
            order = np.argsort(bucket[c], kind="stable")
            ids = bucket[c, order]
            cuts = np.flatnonzero(np.diff(ids)) + 1
            starts = np.concatenate([[0], cuts])
            ends = np.concatenate([cuts, [ids.size]])
            a_all, r_all = patches[c, order], residual[c, order]
            for lo, hi in zip(starts, ends, strict=True):
                b = ids[lo]
                a = a_all[lo:hi]
                gram[c, b] += a.T @ a
                rhs[c, b] += a.T @ r_all[lo:hi]
                counts[c, b] += hi - lo

    # -- predict ----------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if any(
            x is None
            for x in (self.filters, self.strength_edges, self.coherence_edges, self.counts)
        ):
            raise ValueError("this Raisr is not fitted: call fit() (or Raisr.load) first")
        n_ch = np.shape(self.filters)[0] if np.ndim(self.filters) else 0
        if (
            np.shape(self.filters) != (n_ch, *self._bank_shape, self.patch**2)
            or np.shape(self.counts) != (n_ch, *self._bank_shape)
            or np.shape(self.strength_edges) != (n_ch, self.strengths - 1)
            or np.shape(self.coherence_edges) != (n_ch, self.coherences - 1)
        ):
            raise ValueError(
                f"the learned arrays do not fit the settings (scale={self.scale}, "
                f"patch={self.patch}, bins {self.angles}x{self.strengths}x{self.coherences}): "
                f"filters {np.shape(self.filters)}, counts {np.shape(self.counts)}, edges "
                f"{np.shape(self.strength_edges)} and {np.shape(self.coherence_edges)}"
            )

    def predict(self, coarse: np.ndarray, shape: tuple[int, int] | None = None) -> np.ndarray:
        """Upsample ``coarse`` ``(N, C, h, w)`` to ``(N, C, h * scale, w * scale)``: the cubic
        upscale, then each pixel's hashed filter. ``shape``, if given, must be that fine shape:
        the model only upsamples by the factor it was trained for."""
        self._check_settings()
        self._check_fitted()
        x = np.asarray(coarse)
        out_dtype = np.float32 if x.dtype == np.float32 else np.float64
        x = _fields(x, "coarse")
        n, n_ch, h, w = x.shape
        s, d = self.scale, self.patch
        big_h, big_w = h * s, w * s
        if shape is not None and tuple(int(v) for v in shape) != (big_h, big_w):
            raise ValueError(
                f"this Raisr was trained for x{s}: coarse {h}x{w} upsamples to "
                f"{big_h}x{big_w}, not {tuple(shape)}"
            )
        if n_ch != self.filters.shape[0]:
            raise ValueError(
                f"coarse has {n_ch} channels but this Raisr was fitted on {self.filters.shape[0]}"
            )
        dd = d * d
        bank = self.filters.reshape(n_ch, -1, dd)
        result_bytes = np.dtype(out_dtype).itemsize * n * n_ch * big_h * big_w
        require_memory(
            8 * (30 * n_ch * (big_h + d) * (big_w + d) + 2 * _CHUNK_VALUES) + result_bytes,
            f"the RAISR prediction of {n} x {n_ch} x {big_h}x{big_w} fields",
            "predict fewer samples at a time",
        )
        out = np.empty((n, n_ch, big_h, big_w), dtype=out_dtype)
        step = max(1, _CHUNK_VALUES // (n_ch * big_w * dd))
        channel = np.arange(n_ch)[:, None, None]
        for i in range(n):
            up = cubic_upsample(x[i], s, (big_h, big_w))
            bucket = self._buckets(up, self.strength_edges, self.coherence_edges)
            windows = sliding_window_view(self._padded(up), (d, d), axis=(-2, -1))
            for r0 in range(0, big_h, step):
                taps = bank[channel, bucket[:, r0 : r0 + step]].reshape(n_ch, -1, big_w, d, d)
                out[i, :, r0 : r0 + step] = np.einsum(
                    "crwij,crwij->crw", windows[:, r0 : r0 + step], taps
                )
        return out

    # -- persistence ------------------------------------------------------------------------

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> None:
        """Write the settings and learned arrays to ``path`` (an ``.npz``, under exactly that
        name); an existing file is replaced only with ``overwrite=True``."""
        self._check_fitted()
        arrays = {
            "format": np.array(_FORMAT),
            "scale": np.array(self.scale),
            "patch": np.array(self.patch),
            "angles": np.array(self.angles),
            "strengths": np.array(self.strengths),
            "coherences": np.array(self.coherences),
            "filters": self.filters,
            "strength_edges": self.strength_edges,
            "coherence_edges": self.coherence_edges,
            "counts": self.counts,
        }
        try:
            with open(path, "wb" if overwrite else "xb") as f:
                np.savez(f, **arrays)
        except FileExistsError:
            raise FileExistsError(
                f"{os.fspath(path)} exists: pass overwrite=True to replace it"
            ) from None

    @classmethod
    def load(cls, path: str | os.PathLike) -> Raisr:
        """A model written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            if "format" not in data.files or str(data["format"]) != _FORMAT:
                raise ValueError(f"{os.fspath(path)} is not a saved Raisr ({_FORMAT})")
            try:
                model = cls(
                    scale=int(data["scale"]),
                    patch=int(data["patch"]),
                    angles=int(data["angles"]),
                    strengths=int(data["strengths"]),
                    coherences=int(data["coherences"]),
                    filters=data["filters"],
                    strength_edges=data["strength_edges"],
                    coherence_edges=data["coherence_edges"],
                    counts=data["counts"],
                )
            except KeyError as err:
                raise ValueError(f"{os.fspath(path)}: a saved Raisr without {err}") from None
            except ValueError as err:
                raise ValueError(f"{os.fspath(path)}: {err}") from None
        return model
