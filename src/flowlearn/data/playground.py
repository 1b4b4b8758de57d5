"""The six data sets of playground.tensorflow.org, re-implemented from the site's ``dataset.ts``.

Each generator follows the site's definition point by point (radii, paddings, label rules, how
the noise slider enters); only the random stream differs: the site draws from one global
``Math.random``, we draw from ``np.random.default_rng(seed)``, so a seed gives the same points
every time. Classification labels are -1 (the site's orange) or +1 (blue); regression labels are
real numbers, about [-1, 1].

Public surface: :func:`make_dataset`, :func:`train_test_split`, :func:`feature_map`,
:func:`domain_grid` and the name tuples :data:`CLASSIFICATION`, :data:`REGRESSION`,
:data:`DATASETS`, :data:`FEATURES`.

Example::

    X, y = make_dataset("circle", noise=0.1, seed=0)      # X: (500, 2) float32, y: (500,)
    (X_train, y_train), (X_test, y_test) = train_test_split(X, y, seed=0)
    Z = feature_map(X_train, ["x1^2", "x2^2"])            # (250, 2)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

CLASSIFICATION: tuple[str, ...] = ("circle", "xor", "gauss", "spiral")
REGRESSION: tuple[str, ...] = ("plane", "multi-gaussian")
DATASETS: tuple[str, ...] = CLASSIFICATION + REGRESSION

#: The site's sample counts (``NUM_SAMPLES_CLASSIFY``, ``NUM_SAMPLES_REGRESS``).
N_CLASSIFICATION = 500
N_REGRESSION = 1200
#: The noise slider runs 0-50 %, i.e. ``noise`` in [0, 0.5].
MAX_NOISE = 0.5
#: The square the site draws its heat maps on, [-6, 6]^2.
DOMAIN = (-6.0, 6.0)
#: The site's default "ratio of training to test data".
TRAIN_FRACTION = 0.5

Array = np.ndarray
Generator = Callable[[np.random.Generator, int, float], tuple[Array, Array]]


def _halves(n: int) -> tuple[int, int]:
    # The site loops ``i < numSamples / 2`` twice; for odd n that gives n + 1 points. We keep
    # exactly n: the first class gets n // 2, the second the rest.
    return n // 2, n - n // 2


def _circle(rng: np.random.Generator, n: int, noise: float) -> tuple[Array, Array]:
    radius = 5.0
    parts = []
    # positives drawn in r in [0, 2.5], negatives in the ring r in [3.5, 5]; the label is then
    # decided on the noise-shifted point, so noise flips labels near the gap
    for count, (r_min, r_max) in zip(
        _halves(n), [(0.0, 0.5 * radius), (0.7 * radius, radius)], strict=True
    ):
        r = rng.uniform(r_min, r_max, count)
        angle = rng.uniform(0.0, 2.0 * np.pi, count)
        x, y = r * np.sin(angle), r * np.cos(angle)
        noise_x = rng.uniform(-radius, radius, count) * noise
        noise_y = rng.uniform(-radius, radius, count) * noise
        inside = np.hypot(x + noise_x, y + noise_y) < 0.5 * radius
        parts.append((x, y, np.where(inside, 1.0, -1.0)))
    return _stack(parts)


def _xor(rng: np.random.Generator, n: int, noise: float) -> tuple[Array, Array]:
    padding = 0.3  # keeps points off the axes, where the label would be ambiguous
    x = rng.uniform(-5.0, 5.0, n)
    x += np.where(x > 0, padding, -padding)
    y = rng.uniform(-5.0, 5.0, n)
    y += np.where(y > 0, padding, -padding)
    noise_x = rng.uniform(-5.0, 5.0, n) * noise
    noise_y = rng.uniform(-5.0, 5.0, n) * noise
    label = np.where((x + noise_x) * (y + noise_y) >= 0, 1.0, -1.0)
    return _stack([(x, y, label)])


def gauss_variance(noise: float) -> float:
    """Variance of each blob of ``gauss``: noise 0 -> 0.5, noise 0.5 -> 4 (linear, the site's
    ``d3.scaleLinear().domain([0, 0.5]).range([0.5, 4])``)."""
    return 0.5 + (noise / MAX_NOISE) * (4.0 - 0.5)


def _gauss(rng: np.random.Generator, n: int, noise: float) -> tuple[Array, Array]:
    std = np.sqrt(gauss_variance(noise))
    parts = []
    for count, (centre, label) in zip(_halves(n), [(2.0, 1.0), (-2.0, -1.0)], strict=True):
        x = rng.normal(centre, std, count)
        y = rng.normal(centre, std, count)
        parts.append((x, y, np.full(count, label)))
    return _stack(parts)


def _spiral(rng: np.random.Generator, n: int, noise: float) -> tuple[Array, Array]:
    half = n / 2  # the site's ``n = numSamples / 2`` (a float for odd n)
    parts = []
    for count, (delta_t, label) in zip(_halves(n), [(0.0, 1.0), (np.pi, -1.0)], strict=True):
        i = np.arange(count)
        r = i / half * 5.0
        t = 1.75 * i / half * 2.0 * np.pi + delta_t
        x = r * np.sin(t) + rng.uniform(-1.0, 1.0, count) * noise
        y = r * np.cos(t) + rng.uniform(-1.0, 1.0, count) * noise
        parts.append((x, y, np.full(count, label)))
    return _stack(parts)


def plane_label(x: Array, y: Array) -> Array:
    """The site's plane label: ``x + y`` mapped linearly from [-10, 10] to [-1, 1], NOT clamped
    (points near the corners of [-6, 6]^2 get up to +-1.2, as on the site)."""
    return (x + y) / 10.0


def _plane(rng: np.random.Generator, n: int, noise: float) -> tuple[Array, Array]:
    radius = 6.0
    x = rng.uniform(-radius, radius, n)
    y = rng.uniform(-radius, radius, n)
    noise_x = rng.uniform(-radius, radius, n) * noise
    noise_y = rng.uniform(-radius, radius, n) * noise
    return _stack([(x, y, plane_label(x + noise_x, y + noise_y))])


#: The bumps of ``multi-gaussian``: (centre x, centre y, sign).
BUMPS: tuple[tuple[float, float, float], ...] = (
    (-4.0, 2.5, 1.0),
    (0.0, 2.5, -1.0),
    (4.0, 2.5, 1.0),
    (-4.0, -2.5, -1.0),
    (0.0, -2.5, 1.0),
    (4.0, -2.5, -1.0),
)


def multi_gaussian_label(x: Array, y: Array) -> Array:
    """Signed bump value of largest magnitude; each bump is ``sign * clamp(1 - d / 2, 0, 1)``
    (distance d in [0, 2] mapped to [1, 0]). Ties go to the first bump, as the site's strict ``>``
    does; far from every bump the label is 0."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    values = np.stack(
        [s * np.clip(1.0 - np.hypot(x - cx, y - cy) / 2.0, 0.0, 1.0) for cx, cy, s in BUMPS],
        axis=-1,
    )
    pick = np.argmax(np.abs(values), axis=-1)
    return np.take_along_axis(values, pick[..., None], axis=-1)[..., 0]


def _multi_gaussian(rng: np.random.Generator, n: int, noise: float) -> tuple[Array, Array]:
    radius = 6.0
    x = rng.uniform(-radius, radius, n)
    y = rng.uniform(-radius, radius, n)
    noise_x = rng.uniform(-radius, radius, n) * noise
    noise_y = rng.uniform(-radius, radius, n) * noise
    return _stack([(x, y, multi_gaussian_label(x + noise_x, y + noise_y))])


def _stack(parts: Sequence[tuple[Array, Array, Array]]) -> tuple[Array, Array]:
    X = np.concatenate([np.stack([x, y], axis=1) for x, y, _ in parts]).astype(np.float32)
    labels = np.concatenate([label for _, _, label in parts]).astype(np.float32)
    return X, labels


_GENERATORS: dict[str, Generator] = {
    "circle": _circle,
    "xor": _xor,
    "gauss": _gauss,
    "spiral": _spiral,
    "plane": _plane,
    "multi-gaussian": _multi_gaussian,
}


def default_n_samples(name: str) -> int:
    """500 for a classification set, 1200 for a regression set (the site's counts)."""
    _check_name(name)
    return N_CLASSIFICATION if name in CLASSIFICATION else N_REGRESSION


def make_dataset(
    name: str, n_samples: int | None = None, noise: float = 0.0, seed: int = 0
) -> tuple[Array, Array]:
    """Generate one playground data set.

    Args:
        name: ``circle``, ``xor``, ``gauss``, ``spiral`` (classification, labels -1 / +1) or
            ``plane``, ``multi-gaussian`` (regression, labels about [-1, 1]).
        n_samples: number of points; ``None`` gives the site's 500 (classification) or 1200
            (regression).
        noise: the site's noise slider as a fraction, in [0, 0.5] (0 is the site's default).
        seed: seed of ``np.random.default_rng``; same arguments, same points.

    Returns:
        ``X``: float32 ``(n, 2)``, coordinates (x1, x2) in the playground's units (the data lie
        in about [-6, 6]^2), in generation order (classification: all of one class, then the
        other); ``y``: float32 ``(n,)``. Shuffle with :func:`train_test_split`.
    """
    _check_name(name)
    if not 0.0 <= noise <= MAX_NOISE:
        if noise > MAX_NOISE:
            why = f"noise {noise:g} exceeds {MAX_NOISE:g}, the playground's maximum (50 %)"
        else:
            why = (
                f"noise {noise:g} is negative; the playground's noise runs from 0 to {MAX_NOISE:g}"
            )
        raise ValueError(why)
    n = default_n_samples(name) if n_samples is None else int(n_samples)
    if n < 2:
        raise ValueError(f"n_samples {n} is below 2: each data set needs at least two points")
    return _GENERATORS[name](np.random.default_rng(seed), n, float(noise))


def _check_name(name: str) -> None:
    if name not in _GENERATORS:
        raise ValueError(
            f"unknown playground data set {name!r}; valid names: {', '.join(DATASETS)}"
        )


def train_test_split(
    X: Array, y: Array, train_fraction: float = TRAIN_FRACTION, seed: int = 0
) -> tuple[tuple[Array, Array], tuple[Array, Array]]:
    """Shuffle, then cut at ``floor(n * train_fraction)`` as the site does.

    ``train_fraction`` is the site's "ratio of training to test data", 0.1-0.9 (default 0.5).
    Returns ``((X_train, y_train), (X_test, y_test))``.
    """
    if not 0.1 <= train_fraction <= 0.9:
        raise ValueError(
            f"train_fraction {train_fraction:g} is outside [0.1, 0.9], the playground's range"
        )
    order = np.random.default_rng(seed).permutation(len(X))
    cut = int(np.floor(len(X) * train_fraction))
    train, test = order[:cut], order[cut:]
    return (X[train], y[train]), (X[test], y[test])


_FEATURES: dict[str, Callable[[Array, Array], Array]] = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1 * x1,
    "x2^2": lambda x1, x2: x2 * x2,
    "x1*x2": lambda x1, x2: x1 * x2,
    "sin(x1)": lambda x1, x2: np.sin(x1),
    "sin(x2)": lambda x1, x2: np.sin(x2),
}
#: The site's input features: X1, X2, X1^2, X2^2, X1X2, sin(X1), sin(X2).
FEATURES: tuple[str, ...] = tuple(_FEATURES)


def feature_map(X: Array, features: Sequence[str] = ("x1", "x2")) -> Array:
    """The inputs the network sees: ``X`` ``(n, 2)`` -> float32 ``(n, len(features))``.

    ``features`` are names from :data:`FEATURES`; the site's default is ``("x1", "x2")``.
    """
    unknown = [f for f in features if f not in _FEATURES]
    if unknown or not features:
        raise ValueError(
            f"unknown feature(s) {unknown or list(features)}; valid features: {', '.join(FEATURES)}"
        )
    x1, x2 = X[:, 0], X[:, 1]
    return np.stack([_FEATURES[f](x1, x2) for f in features], axis=1).astype(np.float32)


def domain_grid(resolution: int = 100) -> tuple[Array, Array]:
    """Points of a ``resolution x resolution`` grid over [-6, 6]^2, for decision heat maps.

    Returns ``(axis, points)``: ``axis`` ``(resolution,)`` the coordinates along x1 and x2,
    ``points`` float32 ``(resolution**2, 2)`` in row-major order (row = x2, column = x1), so
    ``f(points).reshape(resolution, resolution)`` is an image with x2 along its rows. The site
    uses 100.
    """
    axis = np.linspace(DOMAIN[0], DOMAIN[1], resolution)
    x1, x2 = np.meshgrid(axis, axis)
    return axis, np.stack([x1.ravel(), x2.ravel()], axis=1).astype(np.float32)
