"""The speed claim at equal accuracy (:mod:`flowlearn.evaluation.cost_accuracy`) and the exact
mode (the LBM started from a guess: :func:`flowlearn.data.flow_dataset.refine`, Mei et al.'s
consistent start :meth:`Solver.initialise_consistent`), on small grids."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from flowlearn.data import flow_dataset as fd
from flowlearn.evaluation import cost_accuracy as ca
from flowlearn.evaluation.flow_metrics import relative_velocity_error
from flowlearn.physics import geometry
from flowlearn.physics.lbm import StabilityWarning

SPEC = fd.FlowDatasetSpec(grid=(48, 24), n=8, re=(15.0, 25.0), families=("circle", "ellipse"))


def _case(re: float = 20.0):
    body = geometry.circle((14.0, 12.3), 3.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StabilityWarning)
        return body, fd.steady_case(SPEC, body, re)


@pytest.fixture(scope="module")
def steady():
    """A cylinder in the 48x24 channel run to the dataset's tolerance from the uniform start."""
    body, case = _case()
    report = fd.run_to_steady(SPEC, case)
    assert report.steady
    fields, mask = case.fields()
    return body, fields, mask, report


# ------------------------------------------------------------------- Mei's consistent start
def test_mei_start_recovers_the_pressure_from_the_velocity_alone(steady):
    """Held at the steady velocity, the density iteration finds the steady pressure field
    (Mei et al. 2006): started at rho = 1, it ends within a few % of the LBM's pressure drop."""
    _, fields, mask, _ = steady
    _, case = _case()
    u = case.units.u_lattice
    steps = case.solver.initialise_consistent(fields[:2] * u, 1.0, max_steps=2000)
    assert 0 < steps < 2000  # converged before the budget
    assert case.solver.time == 0
    rho, vel = case.solver.macroscopic()
    p = (rho - 1.0) / 3.0 / u**2
    fluid = ~mask
    true_p = fields[2]
    spread = true_p[fluid].max() - true_p[fluid].min()
    assert np.abs(p[fluid] - true_p[fluid]).max() < 0.05 * spread
    # the velocity is the one held, to the lattice's O(Ma^2) closure
    assert np.abs(vel[:, fluid] / u - fields[:2, fluid]).max() < 0.02


def test_mei_start_bad_inputs():
    _, case = _case()
    nx, ny = case.solver.grid
    with pytest.raises(ValueError, match=r"u has shape"):
        case.solver.initialise_consistent(np.zeros((2, nx, ny)))
    bad = np.zeros((2, ny, nx))
    bad[0, 3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        case.solver.initialise_consistent(bad)
    with pytest.raises(ValueError, match="max_steps"):
        case.solver.initialise_consistent(np.zeros((2, ny, nx)), max_steps=-1)


# ----------------------------------------------------------------------------- exact mode
@pytest.mark.parametrize("start", fd.STARTS)
def test_refine_from_a_rough_guess_converges_to_the_cold_start_answer(steady, start):
    """A guess 10 % off (a smooth error) reaches the same steady state as the uniform start;
    the fields agree to the tolerance's level (1e-3 relative). From the equilibrium at the
    guess, in fewer steps; Mei's start, whose held velocity here is not divergence-free, never
    settles within its budget and costs steps (why "pressure" is the default)."""
    body, fields, mask, cold = steady
    ny = mask.shape[0]
    yy = (np.arange(ny) + 0.5)[:, None] / ny
    guess = fields * (1.0 + 0.1 * np.sin(np.pi * yy))
    r = fd.refine(SPEC, body, 20.0, guess, start=start, tols=(1e-6, SPEC.steady_tol))
    assert r.report.steady and r.fallback == ""
    assert relative_velocity_error(r.fields[None], fields[None], mask[None])[0] < 1e-3
    if start == "pressure":
        assert r.start_steps == 0 and r.report.steps < cold.steps
    else:
        assert r.start_steps == 1000
    assert set(r.crossings) == {1e-6, SPEC.steady_tol}
    assert r.crossings[1e-6][0] <= r.crossings[SPEC.steady_tol][0]


def test_a_diverging_guess_falls_back_to_the_uniform_start(steady):
    body, fields, _, cold = steady
    wild = fields * 40.0  # 2 cells/step: the lattice blows up at once
    r = fd.refine(SPEC, body, 20.0, wild)
    assert "diverged" in r.fallback and "uniform start" in r.fallback
    assert r.report.steps == cold.steps
    assert np.abs(r.fields - fields).max() < 1e-6


def test_start_from_fields_bad_inputs():
    _, case = _case()
    nx, ny = case.solver.grid
    with pytest.raises(ValueError, match=r"shape \(3, 10, 10\)"):
        fd.start_from_fields(case, np.zeros((3, 10, 10)))
    with pytest.raises(ValueError, match="choose pressure, mei"):
        fd.start_from_fields(case, np.zeros((3, ny, nx)), start="magic")
    holes = np.zeros((3, ny, nx))
    holes[0, 1, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or inf in the fluid"):
        fd.start_from_fields(case, holes)


# ------------------------------------------------------------------ the classical curve
def test_upsample_is_exact_for_a_linear_field():
    ny, nx, s = 16, 32, 2
    yc, xc = (np.arange(ny // s) + 0.5) * s, (np.arange(nx // s) + 0.5) * s
    coarse = (2.0 * xc[None, :] - 3.0 * yc[:, None])[None]
    fine = ca.upsample(coarse, s, (ny, nx))
    y, x = np.arange(ny) + 0.5, np.arange(nx) + 0.5
    inner = (slice(1, -1), slice(1, -1))
    assert np.allclose(fine[0][inner], (2.0 * x[None, :] - 3.0 * y[:, None])[inner])


def test_classical_run_error_falls_as_the_tolerance_tightens(steady):
    body, fields, mask, cold = steady
    tols = (1e-3, 1e-5, SPEC.steady_tol)
    got = ca.classical_run(SPEC, body, 20.0, 1, SPEC.u_lattice, tols)
    err = {t: relative_velocity_error(got[t]["fields"][None], fields[None], mask[None])[0]
           for t in tols}  # fmt: skip
    assert err[1e-3] > err[1e-5] > err[SPEC.steady_tol]
    assert err[SPEC.steady_tol] < 1e-5  # the dataset's recipe reproduces itself
    assert got[SPEC.steady_tol]["steps"] == cold.steps
    half = ca.classical_run(SPEC, body, 20.0, 2, SPEC.u_lattice, (SPEC.steady_tol,))
    coarse = relative_velocity_error(
        half[SPEC.steady_tol]["fields"][None], fields[None], mask[None]
    )
    assert 1e-3 < coarse[0] < 0.3  # a 6-cell cylinder on 3 cells: visibly coarser
    with pytest.raises(ValueError, match="does not divide by 5"):
        ca.classical_run(SPEC, body, 20.0, 5, SPEC.u_lattice, (1e-3,))


def _row(label, seconds, error):
    return {"label": label, "seconds": {"median": seconds}, "error_mean": error}


def test_pareto_and_equal_accuracy_interpolation():
    rows = [_row("a", 1.0, 0.1), _row("b", 2.0, 0.2), _row("c", 4.0, 0.01), _row("d", 8.0, 0.0)]
    front = ca.pareto(rows)
    assert [r["label"] for r in front] == ["a", "c", "d"]  # b is slower and worse than a
    eq = ca.time_at_error(front, math.sqrt(0.1 * 0.01))  # half-way in log error
    assert eq["bound"] == "interpolated" and eq["seconds"] == pytest.approx(2.0)
    assert ca.time_at_error(front, 0.5)["bound"] == "cheapest is more accurate"
    assert ca.time_at_error(front, 0.5)["seconds"] == 1.0
    at = ca.error_at_time(front, 2.0)
    assert at["error"] == pytest.approx(math.sqrt(0.1 * 0.01))
    assert ca.error_at_time(front, 0.5)["error"] is None
    assert "no LBM setting runs that fast" in ca.error_at_time(front, 0.5)["reason"]


def _measured(net_seconds: float, net_error: float) -> dict:
    lbm = []
    for k in range(3):
        for tol, sec, err in ((1e-3, 0.01, 0.05), (1e-5, 0.02, 0.005), (1e-7, 0.04, 1e-8)):
            lbm.append({"sample": k, "scale": 1, "u_lattice": 0.05, "tol": tol, "failure": "",
                        "error": err, "cd_error": err, "seconds": sec, "steps": 100})  # fmt: skip
        lbm.append({"sample": k, "scale": 2, "u_lattice": 0.05, "tol": 1e-3,
                    "failure": "diverged: boom", "seconds_spent": 0.005})  # fmt: skip
    nets = {"net": {"error": [net_error] * 3, "cd_error": [0.01] * 3,
                    "seconds": {"64": [net_seconds] * 3}}}  # fmt: skip
    return {"lbm": lbm, "networks": nets, "warm": [], "samples": 3}


def test_summary_break_even_and_fallbacks():
    s = ca.summarise(_measured(0.001, 0.005), {"net": 100.0}, 900.0)
    net = s["networks"]["net"]
    eq = net["equal_accuracy"]["64"]
    assert eq["speedup"] == pytest.approx(0.02 / 0.001)
    assert net["break_even"]["64"]["predictions"] == pytest.approx(1000.0 / (0.02 - 0.001))
    assert s["reference_seconds"] == pytest.approx(0.04)
    coarse = next(r for r in s["lbm"] if r["scale"] == 2)
    # a diverged coarse run falls back to the reference recipe: its time is charged, its error
    # is the recipe's, and a setting that always falls back never joins the front
    assert coarse["fallbacks"] == {"diverged": 3}
    assert coarse["seconds"]["median"] == pytest.approx(0.045)
    assert coarse["error_mean"] == pytest.approx(1e-8)
    assert coarse["label"] not in s["front"]
    slow = ca.summarise(_measured(0.05, 0.005), {"net": 100.0}, 900.0)["networks"]["net"]
    assert slow["break_even"]["64"]["pays_off"] is False
    assert slow["break_even"]["64"]["network_over_lbm"] == pytest.approx(0.05 / 0.02)
    unknown = ca.summarise(_measured(0.001, 0.005), None, None)["networks"]["net"]
    assert unknown["break_even"]["64"]["pays_off"] is None


def test_measure_interleaves_lbm_networks_and_warm_starts(tmp_path):
    """End to end on 2 fresh samples with an untrained one-member U-Net: every setting is
    either measured or counted as a fallback, the warm starts converge to the cold answer."""
    from flowlearn.evaluation.surrogate_bench import untrained_surrogate

    spec = fd.FlowDatasetSpec(grid=(32, 16), n=6, re=(15.0, 25.0), families=("circle",))
    data = ca.reference_samples(spec, 2)
    net = untrained_surrogate((32, 16), spec)
    curve = [ca.Setting(1, 0.05, 1e-4), ca.Setting(1, 0.05, spec.steady_tol),
             ca.Setting(2, 0.05, spec.steady_tol)]  # fmt: skip
    m = ca.measure(spec, data, [0, 1], {"net": net}, curve=curve, batch_sizes=(1, 4))
    assert len(m["lbm"]) == 2 * len(curve)
    assert set(m["networks"]["net"]["seconds"]) == {"1", "4"}
    s = ca.summarise(m, {"net": 1.0}, 1.0)
    assert {r["label"] for r in s["lbm"]} == {c.label for c in curve}
    warm = s["warm"]
    assert warm["uniform"]["step_ratio_median"] == 1.0
    for start in ("net", "reference (Mei)"):
        assert warm[start]["max_difference"] < 1e-3
    assert warm["reference (Mei)"]["step_ratio_median"] > 1.0
    # the starts' own distance to the answer: the reference's is round-off, the uniform's large
    assert warm["reference (Mei)"]["start_error_median"] < 1e-5
    assert warm["uniform"]["start_error_median"] > 0.05


def test_surrogate_refine_api_and_a_grid_mismatch():
    from flowlearn.evaluation.surrogate_bench import untrained_surrogate

    spec = fd.FlowDatasetSpec(grid=(32, 16), n=4, re=(15.0, 25.0), families=("circle",))
    net = untrained_surrogate((32, 16), spec)
    body = geometry.circle((10.0, 8.2), 2.6)
    r = net.refine(body, 20.0)
    cold = fd.refine(spec, body, 20.0, None)
    assert r.report.steady and r.fallback == ""
    assert np.abs(r.fields - cold.fields)[:2, ~cold.mask].max() < 1e-3
    with pytest.raises(ValueError, match="differs from the surrogate's 32x16"):
        net.refine(body, 20.0, spec=SPEC)


def test_connected_fluid_leaves_out_an_enclosed_pocket():
    mask = np.zeros((8, 12), bool)
    mask[2:7, 4:9] = True  # a body ...
    mask[4, 6] = False  # ... with a fluid pocket inside
    fluid = ca.connected_fluid(mask)
    assert not fluid[4, 6] and fluid[0, 0] and fluid[7, 11]
    assert fluid.sum() == (~mask).sum() - 1
