"""POD and DMD baselines (:mod:`flowlearn.baselines.modes`) against flows whose modes are known:
a travelling wave (two POD modes, one frequency) and a decaying oscillation; every bad input
named."""

from __future__ import annotations

import numpy as np
import pytest

from flowlearn.baselines import DMD, POD

F, DT = 0.3, 0.1  # frequency and time step of the synthetic flows


def _wave(n: int = 120, decay: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A travelling wave in two channels on a 12 x 20 grid, ``(n, 2, 12, 20)``, plus a steady
    mean: exactly two fluctuation modes, at frequency F, growth rate ``-decay``."""
    t = np.arange(n) * DT
    y, x = np.mgrid[0:12, 0:20] / 20.0
    phase = 2 * np.pi * (3 * x)[None] - 2 * np.pi * F * t[:, None, None]
    amp = np.exp(-decay * t)[:, None, None]
    u = 1.0 + amp * np.sin(phase) * np.sin(np.pi * y)[None]
    v = amp * np.cos(phase) * np.sin(np.pi * y)[None]
    return np.stack([u, v], axis=1), t


def test_pod_finds_the_two_modes_of_a_travelling_wave():
    x, _ = _wave()
    pod = POD(energy=0.999).fit(x)
    assert pod.n_modes_ == 2  # a travelling wave: a sine and a cosine mode
    assert pod.energy_[:2].sum() == pytest.approx(1.0, abs=1e-10)
    flat = pod.modes_.reshape(2, -1)
    assert np.allclose(flat @ flat.T, np.eye(2), atol=1e-12)  # orthonormal
    assert np.allclose(pod.mean_[0], 1.0 + x[:, 0].mean(axis=0) - 1.0)
    back = pod.inverse_transform(pod.transform(x))
    assert np.abs(back - x).max() < 1e-10
    # one mode keeps about half the energy: the reconstruction error is what it leaves
    one = POD(n_modes=1).fit(x)
    err = np.linalg.norm(one.inverse_transform(one.transform(x)) - x) ** 2
    fluct = np.linalg.norm(x - x.mean(axis=0)) ** 2
    assert err / fluct == pytest.approx(1.0 - one.energy_[0], rel=1e-8)


def test_dmd_finds_the_frequency_and_growth_and_forecasts():
    x, t = _wave(decay=0.05)
    d = DMD(n_modes=3, dt=DT).fit(x)
    freqs = np.sort(np.abs(d.frequencies_))
    assert freqs[0] == pytest.approx(0.0, abs=1e-8)  # the mean
    assert freqs[1:] == pytest.approx([F, F], rel=1e-6)
    oscillating = np.abs(d.frequencies_) > 0.1
    assert d.growth_rates_[oscillating] == pytest.approx([-0.05, -0.05], rel=1e-5)
    future = t[-1] + DT * np.arange(1, 31)  # three periods beyond the data
    truth, _ = _wave(len(t) + 30, decay=0.05)
    assert np.abs(d.predict(future) - truth[len(t) :]).max() < 1e-6
    amplitudes = d.transform(x[:5])
    assert np.abs(d.inverse_transform(amplitudes) - x[:5]).max() < 1e-6


def test_optimal_amplitudes_fit_noisy_snapshots_better_than_the_first_alone():
    x, t = _wave(decay=0.05)
    noisy = x + 0.05 * np.random.default_rng(0).standard_normal(x.shape)
    err = {
        opt: np.sqrt(((DMD(n_modes=3, dt=DT, optimal_amplitudes=opt).fit(noisy).predict(t) - x)
                      ** 2).mean())
        for opt in (True, False)
    }  # fmt: skip
    assert err[True] < err[False]


def _nan_at_7(x):
    x = x.copy()
    x[7, 1, 3, 3] = np.nan
    return x


@pytest.mark.parametrize(
    ("method", "make", "message"),
    [
        (POD(), lambda x: x[:1], "1 snapshot(s); at least 2 are needed (a single snapshot has"),
        (DMD(dt=DT), lambda x: x[:2], "2 snapshot(s); at least 3 are needed"),
        (POD(), _nan_at_7, "NaN or inf in 1 snapshot(s), the first at index 7"),
        (DMD(dt=DT), _nan_at_7, "NaN or inf in 1 snapshot(s), the first at index 7"),
        (POD(), lambda x: x[0, 0, 0], "snapshots must be an array (n_snapshots, *shape)"),
    ],
)
def test_bad_snapshots_are_named(method, make, message):
    x, _ = _wave(20)
    with pytest.raises(ValueError) as err:
        method.fit(make(x))
    assert message in str(err.value)


def test_more_modes_than_snapshots_other_shapes_and_uneven_steps_are_refused():
    x, t = _wave(10)
    with pytest.raises(ValueError, match="11 modes asked for, but 10 snapshots give at most 10"):
        POD(n_modes=11).fit(x)
    with pytest.raises(ValueError, match="at most 9"):
        DMD(n_modes=10, dt=DT).fit(x)
    pod = POD(n_modes=2).fit(x)
    with pytest.raises(ValueError, match=r"snapshots of shape \(2, 12, 19\), but the fit's"):
        pod.transform(x[..., :19])
    uneven = t.copy()
    uneven[5] += 0.03
    with pytest.raises(ValueError, match="time steps are not uniform"):
        DMD(dt=DT).fit(x, uneven)
    with pytest.raises(ValueError, match="do not vary"):
        POD().fit(np.ones((5, 3, 3)))
    with pytest.raises(ValueError, match=r"energy 1\.5 must lie in"):
        POD(energy=1.5).fit(x)
    with pytest.raises(ValueError, match="dt -1 must be a positive number"):
        DMD(dt=-1).fit(x)
