"""The geometry of high-dimensional spaces: why data never fill them.

Exact results (the volume of the n-ball inside the n-cube, the number of states of an image
space, computed in log space or with exact integers) and their Monte Carlo checks (sampling the
cube, counting occupied orthants, the concentration of pairwise distances).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import pdist
from scipy.special import gammaln
from scipy.stats import binom, norm

LOG10_E = math.log10(math.e)


def log10_ball_to_cube_ratio(n: np.ndarray | Sequence[int] | int) -> np.ndarray:
    """``log10`` of the volume of the n-ball of radius r over its enclosing cube of side 2r.

    ``V_n(r) / (2r)^n = pi^(n/2) / (2^n Gamma(n/2 + 1))``, independent of r. Computed in log
    space with ``gammaln``, so it never overflows: at n = 1000 the ratio is ~10^-1000, far
    below the smallest float64. ``n``: dimension(s) >= 1; returns an array of ``n``'s shape.
    """
    n = np.asarray(n, dtype=float)
    if np.any(n < 1):
        raise ValueError(f"dimension must be >= 1, got min {n.min():g}")
    log_ratio = 0.5 * n * math.log(math.pi) - n * math.log(2.0) - gammaln(0.5 * n + 1.0)
    return log_ratio * LOG10_E


def ball_to_cube_ratio(n: np.ndarray | Sequence[int] | int) -> np.ndarray:
    """The ratio itself, ``10 ** log10_ball_to_cube_ratio(n)``; underflows to 0 above n ~ 600."""
    return np.power(10.0, log10_ball_to_cube_ratio(n))


@dataclass(frozen=True)
class StateCount:
    """The number ``base ** exponent`` described without writing it out.

    ``log10``: its decimal logarithm (float, ~1e-10 relative accuracy); ``digits``: its exact
    number of decimal digits, checked with integer arithmetic; ``mantissa``: ``m`` in
    ``m x 10^(digits - 1)``.
    """

    base: int
    exponent: int
    log10: float
    digits: int
    mantissa: float

    @property
    def rounded_exponent(self) -> int:
        """The E of "about 10^E" (log10 rounded to the nearest integer)."""
        return round(self.log10)


def count_states(base: int, exponent: int) -> StateCount:
    """Describe ``base ** exponent``, e.g. the 256^784 grey-level images of 28 x 28 pixels.

    The digit count is exact: the float estimate ``floor(exponent log10 base) + 1`` is checked
    against ``10^(d-1) <= base^exponent < 10^d`` in exact integers (a fraction of a second even
    for 256^196608, a 473,480-digit number).
    """
    if base < 2:
        raise ValueError(f"base must be >= 2 (levels or states per component), got {base}")
    if exponent < 1:
        raise ValueError(f"exponent must be >= 1 (components), got {exponent}")
    log10 = exponent * math.log10(base)
    value = base**exponent
    digits = math.floor(log10) + 1
    # the float estimate can be one off when log10 is within round-off of an integer
    while value < 10 ** (digits - 1):
        digits -= 1
    while value >= 10**digits:
        digits += 1
    return StateCount(base, exponent, log10, digits, 10 ** (log10 - (digits - 1)))


@dataclass
class CubeSampling:
    """Monte Carlo over the cube ``[-1, 1]^n`` for each n of ``dims``.

    ``inside_ball``: ``(k,)`` fraction of samples with ``|x|_2 <= 1`` (inside the inscribed
    ball; the rest is "in the corners"); ``inside_sigma``: ``(k,)`` binomial standard deviation
    ``sqrt(p (1 - p) / N)`` of that fraction at the exact p; ``orthants_occupied``: ``(k,)``
    fraction of the 2^n orthants (the corners' regions) holding at least one sample;
    ``orthants_expected``: its exact expectation ``1 - (1 - 2^-n)^N``.
    """

    dims: np.ndarray
    n_samples: int
    inside_ball: np.ndarray
    inside_exact: np.ndarray
    inside_sigma: np.ndarray
    orthants_occupied: np.ndarray
    orthants_expected: np.ndarray

    @property
    def inside_sigmas(self) -> np.ndarray:
        """``(k,)`` the Monte Carlo count's deviation from the exact share in Gaussian sigmas,
        from the exact binomial two-sided tail probability.

        Where few samples are expected inside (beyond n ~ 12) the binomial is far from Gaussian
        and ``(fraction - p) / sigma`` overstates a single lucky hit: one sample when 0.1 were
        expected is 3 "sigmas" but happens one time in ten. The tail probability does not.
        """
        k = np.rint(self.inside_ball * self.n_samples)
        p = self.inside_exact
        lower = binom.cdf(k, self.n_samples, p)
        upper = binom.sf(k - 1, self.n_samples, p)
        two_sided = np.minimum(1.0, 2.0 * np.minimum(lower, upper))
        return norm.isf(two_sided / 2.0)


#: samples drawn at once; bounds memory to CHUNK x n float64 values
CHUNK = 200_000


def sample_cube(rng: np.random.Generator, dims: Sequence[int], n_samples: int) -> CubeSampling:
    """Draw ``n_samples`` uniform points in ``[-1, 1]^n`` for each ``n`` in ``dims`` (<= 62)."""
    dims = np.asarray(dims, dtype=int)
    if np.any(dims < 1) or np.any(dims > 62):
        raise ValueError(f"dimensions must be in 1..62 (orthant codes are int64), got {dims}")
    inside, occupied = [], []
    for n in dims:
        hits = 0
        codes = []
        weights = 1 << np.arange(n, dtype=np.int64)
        for start in range(0, n_samples, CHUNK):
            x = rng.uniform(-1.0, 1.0, (min(CHUNK, n_samples - start), n))
            hits += int(np.count_nonzero(np.einsum("ij,ij->i", x, x) <= 1.0))
            codes.append((x > 0).astype(np.int64) @ weights)
        inside.append(hits / n_samples)
        occupied.append(np.unique(np.concatenate(codes)).size / 2.0**n)
    exact = ball_to_cube_ratio(dims)
    expected = -np.expm1(n_samples * np.log1p(-(2.0 ** -dims.astype(float))))
    return CubeSampling(
        dims=dims,
        n_samples=n_samples,
        inside_ball=np.asarray(inside),
        inside_exact=exact,
        inside_sigma=np.sqrt(exact * (1.0 - exact) / n_samples),
        orthants_occupied=np.asarray(occupied),
        orthants_expected=expected,
    )


@dataclass
class DistanceConcentration:
    """Pairwise Euclidean distances of uniform points in ``[-1, 1]^n`` for each n of ``dims``.

    ``contrast``: ``(k,)`` ``(max - min) / min`` over all pairs; ``relative_spread``: ``(k,)``
    ``std / mean``; ``relative_spread_theory``: ``(k,)`` its large-n limit
    ``RELATIVE_SPREAD_COEFFICIENT / sqrt(n)``; ``hist_counts``: ``(k, n_bins)`` histogram of
    ``distance / mean distance`` over ``hist_edges`` ``(n_bins + 1,)``.
    """

    dims: np.ndarray
    n_points: int
    contrast: np.ndarray
    relative_spread: np.ndarray
    relative_spread_theory: np.ndarray
    mean_distance: np.ndarray
    hist_edges: np.ndarray
    hist_counts: np.ndarray


#: For x, y uniform in [-1, 1]: E(x-y)^2 = 2/3 and Var(x-y)^2 = 28/45, so |x-y|^2 over n
#: coordinates has relative std sqrt(28/45) / (2/3) / sqrt(n), and |x-y| half of that.
RELATIVE_SPREAD_COEFFICIENT = 0.5 * math.sqrt(28 / 45) / (2 / 3)


def distance_concentration(
    rng: np.random.Generator,
    dims: Sequence[int],
    n_points: int,
    hist_edges: np.ndarray | None = None,
) -> DistanceConcentration:
    """All ``n_points (n_points - 1) / 2`` pairwise distances for each ``n`` in ``dims``.

    A good start is 500 points (124,750 pairs); ``hist_edges`` default to 250 bins over
    ``[0, 2.5]`` times the mean distance.
    """
    if n_points < 3:
        raise ValueError(f"n_points must be >= 3 to have several pairs, got {n_points}")
    dims = np.asarray(dims, dtype=int)
    edges = np.linspace(0.0, 2.5, 251) if hist_edges is None else np.asarray(hist_edges)
    contrast, spread, means, counts = [], [], [], []
    for n in dims:
        d = pdist(rng.uniform(-1.0, 1.0, (n_points, n)))
        contrast.append((d.max() - d.min()) / d.min())
        means.append(d.mean())
        spread.append(d.std() / d.mean())
        counts.append(np.histogram(d / d.mean(), bins=edges)[0])
    return DistanceConcentration(
        dims=dims,
        n_points=n_points,
        contrast=np.asarray(contrast),
        relative_spread=np.asarray(spread),
        relative_spread_theory=RELATIVE_SPREAD_COEFFICIENT / np.sqrt(dims),
        mean_distance=np.asarray(means),
        hist_edges=edges,
        hist_counts=np.asarray(counts),
    )
