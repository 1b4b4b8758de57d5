"""Cantera ground truth: ignition delays, the reused reactor against a fresh one, conserved
elements and enthalpy, the delay's definition, and every bad input against its message."""

from __future__ import annotations

import math

import numpy as np
import pytest

ct = pytest.importorskip("cantera", reason="chemistry needs Cantera: pip install cantera")

from flowlearn.physics import chemistry as chem  # noqa: E402

ATM = 101_325.0


def test_methane_ignition_delay_at_1200_K():
    # GRI-Mech 3.0, CH4/air, phi 1, 1 atm, 1200 K: 45.5 ms (the figure, Cantera 3.2;
    # shock-tube data near these conditions lie at 40-60 ms)
    traj = chem.ignition("gri30", 1200.0, ATM, 1.0)
    assert traj.tau == pytest.approx(45.5e-3, rel=0.01)
    assert traj.t[-1] == pytest.approx(chem.END_FACTOR * traj.tau, rel=0.05)
    # adiabatic flame temperature of stoichiometric methane/air from 1200 K: about 2,620 K
    assert 2550 < traj.T[-1] < 2700


def test_hydrogen_ignition_is_fast_and_hotter_is_faster():
    cold = chem.ignition("h2o2", 1050.0, ATM, 1.0).tau
    hot = chem.ignition("h2o2", 1250.0, ATM, 1.0).tau
    assert 1e-5 < hot < cold < 1e-3


def test_reused_reactor_matches_a_fresh_network():
    gas = ct.Solution("gri30.yaml")
    gas.set_equivalence_ratio(0.8, "CH4", "O2:1, N2:3.76")
    gas.TP = 1500.0, 2 * ATM
    r = ct.IdealGasConstPressureReactor(gas, clone=False)
    net = ct.ReactorNet([r])
    net.rtol, net.atol = chem.STRICT
    net.advance(2e-4)  # a state in the middle of the induction
    T, Y = r.T, np.array(r.phase.Y)
    reused = chem.Reactor("gri30")
    reused.advance(1800.0, ATM, chem.initial_state("gri30", 1800, ATM, 1.0), 1e-6)  # dirty it
    T1, Y1 = reused.advance(T, 2 * ATM, Y, 1e-6)
    fresh_gas = ct.Solution("gri30.yaml")
    fresh_gas.TPY = T, 2 * ATM, Y
    fresh = ct.IdealGasConstPressureReactor(fresh_gas, clone=False)
    fnet = ct.ReactorNet([fresh])
    fnet.rtol, fnet.atol = chem.STRICT
    fnet.advance(1e-6)
    assert T1 == pytest.approx(fresh.T, rel=1e-9)
    np.testing.assert_allclose(Y1, fresh.phase.Y, rtol=1e-6, atol=1e-14)


@pytest.mark.parametrize("mechanism", ["h2o2", "gri30"])
def test_a_step_conserves_elements_and_enthalpy(mechanism):
    names, E = chem.element_matrix(mechanism)
    assert "O" in names and "H" in names
    Y0 = chem.initial_state(mechanism, 1200.0, ATM, 1.0)
    np.testing.assert_allclose(E.sum(axis=0), 1.0, rtol=1e-12)  # each species' mass is its atoms'
    r = chem.Reactor(mechanism)
    T, Y = 1400.0, Y0
    for _ in range(100):  # 10 ms: past both ignitions at 1,400 K
        T, Y = r.advance(T, ATM, Y, 1e-4)
    np.testing.assert_allclose(E @ Y, E @ Y0, rtol=1e-9, atol=1e-12)
    gas = chem.solution(mechanism)
    gas.TPY = 1400.0, ATM, Y0
    h0 = gas.enthalpy_mass
    gas.TPY = T, ATM, Y
    assert gas.enthalpy_mass == pytest.approx(h0, rel=1e-7, abs=10.0)
    assert T > 1400.0 + 100  # it did burn


def test_nasa7_reads_every_species():
    th = chem.nasa7("gri30")
    assert th.low.shape == th.high.shape == (53, 7)
    assert np.all((th.t_mid >= 1000.0) & (th.t_mid <= 1500.0))  # the ranges' common edge
    assert th.W[chem.species_index("gri30", "CH4")] == pytest.approx(16.043, rel=1e-3)


def test_ignition_delay_is_the_steepest_rise():
    t = np.linspace(0.0, 2e-3, 2001)
    T = 1000.0 + 1200.0 / (1.0 + np.exp(-(t - 7.3e-4) / 2e-5))
    assert chem.ignition_delay(t, T) == pytest.approx(7.3e-4, abs=1e-7)
    assert math.isnan(chem.ignition_delay(t, np.full_like(t, 1000.0) + t * 1e4))  # +20 K only
    T[500] = np.nan
    assert math.isnan(chem.ignition_delay(t, T))


def test_progress_variable_rises_from_zero():
    traj = chem.ignition("h2o2", 1100.0, ATM, 1.0)
    c = chem.progress_variable("h2o2", traj.Y)
    assert c[0] == 0.0 and c[-1] > 0.15  # stoichiometric H2/air: Y_H2O ~ 0.2 when burnt


# ------------------------------------------------------------------------------ bad input
def test_unknown_mechanism_and_species_are_named():
    with pytest.raises(chem.ChemistryError, match="unknown mechanism 'gri31': choose one of"):
        chem.mechanism("gri31")
    with pytest.raises(chem.ChemistryError, match="species 'XE' is not in h2o2"):
        chem.species_index("h2o2", "XE")


@pytest.mark.parametrize(
    ("T", "p", "Y", "message"),
    [
        (-300.0, ATM, None, "temperature -300 K must be positive"),
        (300.0, -1.0, None, "pressure -1 Pa must be positive"),
        (300.0, ATM, "half", "mass fractions sum to 0.5"),
        (300.0, ATM, "negative", "mass fraction -0.1 must not be negative"),
        (300.0, ATM, "short", "mass fractions have 3 species; h2o2 has 10"),
    ],
)
def test_non_physical_states_are_refused(T, p, Y, message):
    good = chem.initial_state("h2o2", 1000.0, ATM, 1.0)
    Y = {
        None: good,
        "half": good / 2,
        "negative": good + np.r_[-good[0] - 0.1, np.zeros(8), good[0] + 0.1],
        "short": good[:3],
    }[Y]
    with pytest.raises(chem.ChemistryError, match=message):
        chem.check_state("h2o2", T, p, Y)


@pytest.mark.parametrize(
    ("T0", "p", "phi", "message"),
    [
        (0.0, ATM, 1.0, "temperature 0"),
        (1000.0, 0.0, 1.0, "pressure 0"),
        (1000.0, ATM, -1.0, "equivalence ratio -1"),
    ],
)
def test_bad_conditions_are_refused(T0, p, phi, message):
    with pytest.raises(chem.ChemistryError, match=message):
        chem.initial_state("h2o2", T0, p, phi)


def test_bad_reactor_settings_are_refused():
    with pytest.raises(chem.ChemistryError, match="reactor kind 'volume'"):
        chem.Reactor("h2o2", kind="volume")
    with pytest.raises(chem.ChemistryError, match=r"tolerances rtol 2, atol 1e-15"):
        chem.Reactor("h2o2", rtol=2.0)
    with pytest.raises(chem.ChemistryError, match="preconditioner works with the mole reactor"):
        chem.Reactor("h2o2", kind="mass", preconditioned=True)


def test_a_mixture_that_does_not_ignite_says_so():
    with pytest.raises(chem.ChemistryError, match=r"no ignition within 0\.001 s at T0 600 K"):
        chem.ignition("h2o2", 600.0, ATM, 1.0, max_time=1e-3)
