"""The chemistry network's transforms and conservation, the rollout and the hybrid against
Cantera (with an oracle in place of the network), and the equal-accuracy bookkeeping."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

pytest.importorskip("cantera", reason="chemistry needs Cantera: pip install cantera")

from flowlearn.evaluation import chemistry as ev
from flowlearn.models.chemistry import ChemistryNetwork, boxcox, boxcox_inverse
from flowlearn.physics import chemistry as chem

ATM = chem.ONE_ATM


def network(mechanism="h2o2", seed=0) -> ChemistryNetwork:
    torch.manual_seed(seed)
    n = len(chem.species(mechanism))
    return ChemistryNetwork(n, 16, 2, chem.element_matrix(mechanism)[1], chem.nasa7(mechanism))


def states(mechanism="h2o2", n=6) -> tuple[np.ndarray, np.ndarray]:
    """Pairs along a Cantera ignition: ``[T, p, Y]`` and ``[T', Y']`` 1 µs later."""
    traj = chem.ignition(mechanism, 1150.0, ATM, 1.0)
    idx = np.linspace(0, len(traj.t) - 1, n).astype(int)
    x = np.column_stack([traj.T[idx], np.full(n, ATM), traj.Y[idx]])
    y = chem.Reactor(mechanism).advance_many(x[:, 0], x[:, 1], x[:, 2:], 1e-6)
    return x, y


def test_boxcox_inverts():
    Y = torch.tensor([0.0, 1e-20, 1e-8, 0.3, 1.0], dtype=torch.float64)
    np.testing.assert_allclose(boxcox_inverse(boxcox(Y)), Y, rtol=1e-9, atol=1e-30)


@pytest.mark.parametrize("mechanism", ["h2o2", "gri30"])
def test_true_increments_give_back_the_true_state(mechanism):
    net = network(mechanism)
    x, y = states(mechanism)
    s, nxt = torch.as_tensor(x), torch.as_tensor(y)
    net.fit_normalisation(s, nxt)
    # the normalised targets decode to the raw increments, which rebuild the next state
    inc = net.decode(net.targets(s, nxt).double())
    np.testing.assert_allclose(inc, net.raw_increments(s, nxt), rtol=1e-5, atol=1e-6)
    rebuilt = net.apply(s, net.raw_increments(s, nxt)).numpy()
    np.testing.assert_allclose(rebuilt, y, rtol=1e-9, atol=1e-15)
    # conserving changes almost nothing where the increments are exact
    kept = net.apply(s, net.raw_increments(s, nxt), conserve=True).numpy()
    np.testing.assert_allclose(kept[:, 0], y[:, 0], atol=1e-3)


@pytest.mark.parametrize("mechanism", ["h2o2", "gri30"])
def test_a_step_keeps_mass_fractions_physical_and_conserves_on_request(mechanism):
    net = network(mechanism, seed=3)
    x, y = states(mechanism)
    net.fit_normalisation(torch.as_tensor(x), torch.as_tensor(y))
    with torch.no_grad():
        free = net.step(torch.as_tensor(x)).numpy()
        kept = net.step(torch.as_tensor(x), conserve=True).numpy()
    for out in (free, kept):
        assert (out[:, 1:] >= 0).all()
        np.testing.assert_allclose(out[:, 1:].sum(axis=1), 1.0, rtol=1e-12)
    E = chem.element_matrix(mechanism)[1]
    np.testing.assert_allclose(kept[:, 1:] @ E.T, x[:, 2:] @ E.T, rtol=1e-8, atol=1e-12)
    gas = chem.solution(mechanism)
    for a, b in zip(x, kept, strict=True):
        gas.TPY = a[0], ATM, a[2:]
        h0 = gas.enthalpy_mass
        gas.TPY = b[0], ATM, b[1:]
        assert gas.enthalpy_mass == pytest.approx(h0, rel=1e-8, abs=1e-2)


def test_untrained_statistics_are_refused_shapes():
    with pytest.raises(ValueError, match="element matrix has 3 species, not 10"):
        ChemistryNetwork(10, 8, 1, np.ones((2, 3)))
    with pytest.raises(ValueError, match="must be >= 1"):
        ChemistryNetwork(10, 0, 1)


class Oracle:
    """An 'ensemble' whose increments are Cantera's: the rollout machinery, alone."""

    def __init__(self, mechanism: str, dt: float) -> None:
        self.first = network(mechanism)
        self.reactor = chem.Reactor(mechanism)
        self.dt = dt

    def increments(self, state, size=None):
        s = state.numpy()
        nxt = self.reactor.advance_many(s[:, 0], s[:, 1], s[:, 2:], self.dt)
        inc = self.first.raw_increments(state, torch.as_tensor(nxt))
        return inc, torch.zeros(len(s))


def test_a_rollout_of_exact_steps_reproduces_cantera_ignition():
    dt = 1e-6
    T0, p, phi = np.array([1100.0, 1200.0]), np.array([ATM, 2 * ATM]), np.array([1.0, 0.8])
    refs = [chem.ignition("h2o2", *c) for c in zip(T0, p, phi, strict=True)]
    tau = np.array([r.tau for r in refs])
    Y0 = np.array([chem.initial_state("h2o2", *c) for c in zip(T0, p, phi, strict=True)])
    n = np.ceil(chem.END_FACTOR * tau / dt).astype(int)
    ro = ev.rollout(Oracle("h2o2", dt), T0, p, Y0, int(n.max()), dt)
    E = chem.element_matrix("h2o2")[1]
    err = ev.ignition_errors(
        ro,
        dt,
        n,
        tau,
        np.array([r.T.max() for r in refs]),
        np.array([r.temperature_at(1.5 * r.tau) for r in refs]),
        Y0,
        E,
    )
    assert err["tau_error"].max() < 0.005
    assert err["final_K"].max() < 2.0
    assert err["element_drift"].max() < 1e-8
    assert ro.fallback_share == 0.0


def test_the_hybrid_falls_back_where_the_spread_is_large():
    class Disagreeing(Oracle):
        def increments(self, state, size=None):
            inc, _ = super().increments(state)
            return inc * 0.5, torch.ones(len(state))  # wrong (too slow), and says so

    dt = 1e-6
    T0, p, Y0 = [1200.0], [ATM], chem.initial_state("h2o2", 1200.0, ATM, 1.0)[None]
    tau = chem.ignition("h2o2", 1200.0, ATM, 1.0).tau
    n = math.ceil(3 * tau / dt)
    net = Disagreeing("h2o2", dt)
    alone = ev.rollout(net, T0, p, Y0, n, dt)
    hybrid = ev.rollout(net, T0, p, Y0, n, dt, fallback=ev.Fallback(0.5, chem.Reactor("h2o2")))
    t = np.arange(n + 1) * dt
    assert abs(chem.ignition_delay(t, hybrid.T[:, 0]) - tau) / tau < 0.005
    assert abs(chem.ignition_delay(t, alone.T[:, 0]) - tau) / tau > 0.3
    assert hybrid.fallback_share == 1.0


def test_equal_accuracy_takes_the_cheapest_setting_as_accurate():
    rows = [
        {"label": "strict", "cost": 10.0, "err": {"mean": 0.0}},
        {"label": "prod", "cost": 5.0, "err": {"mean": 0.02}},
        {"label": "loose", "cost": 2.0, "err": {"mean": 0.30}},
        {"label": "broken", "cost": 1.0, "err": {"mean": math.inf}},
    ]
    eq = ev.equal_accuracy(0.05, 0.1, rows, "cost", "err")
    assert eq["setting"] == "prod" and eq["speedup"] == pytest.approx(50.0)
    assert eq["naive_speedup"] == pytest.approx(100.0) and eq["comparable"]
    assert ev.equal_accuracy(0.30, 0.1, rows, "cost", "err")["setting"] == "loose"
    # worse than every setting that ignites, or never igniting: no equal accuracy at all
    for bad in (0.5, math.inf):
        worse = ev.equal_accuracy(bad, 0.1, rows, "cost", "err")
        assert worse["speedup"] is None and not worse["comparable"]
        assert worse["naive_speedup"] == pytest.approx(100.0)
    assert ev.break_even(100.0, 5.0, 1.0) == pytest.approx(25.0)
    assert ev.break_even(100.0, 1.0, 5.0) == math.inf
    assert ev.break_even(100.0, None, 5.0) == math.inf


def test_summary_counts_failed_ignitions():
    s = ev.summary(np.array([0.01, 0.03, math.inf]))
    assert s["mean"] == math.inf and s["failed"] == pytest.approx(1 / 3)
    assert ev.summary(np.array([0.01, 0.03]))["mean"] == pytest.approx(0.02)
