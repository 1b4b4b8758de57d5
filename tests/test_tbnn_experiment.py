"""``tbnn`` end to end on a tiny configuration, then ``flowlearn closure predict`` on its run: the
issue's split, every model scored on every unseen flow, the predicted fields readable by an
OpenFOAM reader, the figures drawn, bad input refused with exit 2."""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import shared_subfolder
from typer.testing import CliRunner

from flowlearn.cli import app
from flowlearn.data import rans
from flowlearn.experiments import execute, get, load_run
from flowlearn.physics import turbulence as turb

TINY = {
    "train_cells": 1500,
    "members": 2,
    "epochs": 3,
    "width": 8,
    "depth": 2,
    "forest_trees": 5,
    "models": ["levm", "qevm", "tbrf", "mlp", "tbnn"],
}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    shared_subfolder("rans")
    exp = get("tbnn")
    config = exp.make_config(quick=True, **TINY)
    out = tmp_path_factory.mktemp("runs")
    run_dir = execute(exp, config, out)
    return run_dir, load_run(run_dir)


def test_the_split_is_the_issues_and_no_test_flow_is_trained_on():
    cfg = get("tbnn").make_config()
    assert set(cfg.train) == {
        "channel_Re180", "channel_Re550", "channel_Re590", "channel_Re2000",
        "duct_AR1_Re180", "duct_AR3_Re180", "duct_AR5_Re180",
    }  # fmt: skip
    assert cfg.validation == ["duct_AR3_Re360"]
    assert set(cfg.test) == {
        "duct_AR7_Re180", "duct_AR10_Re180", "duct_AR14_Re180", "duct_AR1_Re360", "hill_Re10595"
    }  # fmt: skip
    assert not set(cfg.train) & (set(cfg.test) | set(cfg.validation))


def test_bad_configs_are_refused():
    exp = get("tbnn")
    with pytest.raises(ValueError, match="unknown flows duct_AR2_Re180"):
        exp.make_config(test=["duct_AR2_Re180"])
    with pytest.raises(ValueError, match="unknown models svm"):
        exp.make_config(models=["svm", "tbnn"])
    with pytest.raises(ValueError, match="needs the tbnn"):
        exp.make_config(models=["levm"])


def test_every_model_is_scored_on_every_unseen_flow(tiny_run):
    _, run = tiny_run
    m = run.metrics
    flows = m["split"]["validation"] + m["split"]["test"] + m["split"]["beyond"]
    assert set(m["scores"]) == set(flows)
    for f in flows:
        for model in TINY["models"]:
            s = m["scores"][f][model]
            assert len(s["members"]) == (1 if model in ("levm", "qevm") else 2)
            assert np.isfinite(s["ensemble"]["rmse"]["all"]) and s["ensemble"]["rmse"]["all"] > 0
            assert set(s["ensemble"]["rmse"]) == {*turb.COMPONENT_NAMES, "all"}
            if f.startswith("duct"):
                assert "driver" in s["ensemble"] and "mirrored" in s
        assert 0 <= m["scores"][f]["outside_share"] <= 1
    # LEVM predicts no secondary-flow driver at all; the near-wall band is counted
    assert m["summary"]["levm"]["driver_corr"] == 0
    assert all(c["near_wall_excluded"] > 0 for n, c in m["flows"].items() if "duct" in n)
    assert m["flows"]["channel_Re180"]["dropped"]  # the RANS wall point: k = eps = 0
    # the training cells come from the training flows only
    assert m["train_cells"] == TINY["train_cells"]
    assert {c.slide for c in run.claims} >= {"RANS modelling: TBNN < QEVM < LEVM"}


def test_the_tbnn_fields_are_written_for_every_test_flow(tiny_run):
    run_dir, run = tiny_run
    for f in run.metrics["split"]["test"]:
        flow = rans.load_flow(f, drop_invalid=True)
        b = rans.read_foam_field(run_dir / "fields" / f / "b_TBNN")
        tau = rans.read_foam_field(run_dir / "fields" / f / "R_TBNN")
        assert b.shape == (flow.n, 3, 3)
        assert np.allclose(turb.trace(b), 0, atol=1e-9)
        assert np.allclose(tau, turb.reynolds_stress(b, flow.k), rtol=1e-9, atol=1e-12)


def test_figures_are_drawn_from_the_run(tiny_run):
    from flowlearn.report.figures import drawer

    _, run = tiny_run
    names = [f.name for f in drawer("tbnn")(run)]
    assert names == ["tbnn_errors", "tbnn_barycentric", "tbnn_driver", "tbnn_training"]


def test_closure_predict_on_a_named_flow_and_on_a_users_table(tiny_run, tmp_path):
    run_dir, _ = tiny_run
    cli = CliRunner()
    out = tmp_path / "case0"
    res = cli.invoke(app, ["closure", "predict", str(run_dir), "duct_AR1_Re360", "--out", str(out)])
    assert res.exit_code == 0, res.output
    b = rans.read_foam_field(out / "b_TBNN")
    ref = rans.read_foam_field(run_dir / "fields" / "duct_AR1_Re360" / "b_TBNN")
    assert np.allclose(b, ref)  # the same ensemble, read back from its checkpoints
    assert "RMSE(b), TBNN" in res.output and "linear eddy viscosity" in res.output
    # refuses to replace without --overwrite, and leaves the file alone
    before = (out / "b_TBNN").read_bytes()
    res = cli.invoke(app, ["closure", "predict", str(run_dir), "duct_AR1_Re360", "--out", str(out)])
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert (out / "b_TBNN").read_bytes() == before
    # a user's own flow, in flowlearn's table schema, without labels; other files untouched
    flow = rans.load_flow("duct_AR7_Re180")
    table = tmp_path / "mine.csv.gz"
    unlabelled = rans.RansFlow(
        name="mine", kind="custom", k=flow.k, epsilon=flow.epsilon, grad_u=flow.grad_u,
        tau=None, coords=flow.coords, wall_distance=None, meta={}, dropped={},
    )  # fmt: skip
    rans.write_table(unlabelled, table)
    case = tmp_path / "mine0"
    case.mkdir()
    (case / "U").write_text("the user's own field")
    res = cli.invoke(app, ["closure", "predict", str(run_dir), str(table), "--out", str(case)])
    assert res.exit_code == 0, res.output
    assert rans.read_foam_field(case / "b_TBNN").shape == (flow.n, 3, 3)
    assert (case / "U").read_text() == "the user's own field"
    assert "RMSE" not in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["RUN", "no_such_flow", "--out", "OUT"], "neither a file nor a named flow"),
        (["NOT_A_RUN", "duct_AR1_Re360", "--out", "OUT"], "not a finished run"),
        (["RUN", "duct_AR1_Re360", "--out", "MISSING/deeper"], "does not exist"),
    ],
)
def test_closure_predict_bad_input_exits_2(tiny_run, tmp_path, args, message):
    run_dir, _ = tiny_run
    subs = {"RUN": str(run_dir), "NOT_A_RUN": str(tmp_path), "OUT": str(tmp_path / "o"),
            "MISSING/deeper": str(tmp_path / "missing" / "deeper")}  # fmt: skip
    res = CliRunner().invoke(app, ["closure", "predict", *[subs.get(a, a) for a in args]])
    assert res.exit_code == 2
    assert message in " ".join(res.output.split())


def test_closure_predict_names_the_bad_cells_of_a_users_table(tiny_run, tmp_path):
    run_dir, _ = tiny_run
    flow = rans.load_flow("duct_AR1_Re180")
    k = flow.k.copy()
    k[:3] = 0.0
    bad = rans.RansFlow(
        name="bad", kind="custom", k=k, epsilon=flow.epsilon, grad_u=flow.grad_u,
        tau=None, coords=None, wall_distance=None, meta={}, dropped={},
    )  # fmt: skip
    # write_table itself may refuse invalid cells; write the CSV through a valid flow then edit
    table = tmp_path / "bad.csv"
    good = rans.RansFlow(
        name="bad", kind="custom", k=flow.k, epsilon=flow.epsilon, grad_u=flow.grad_u,
        tau=None, coords=None, wall_distance=None, meta={}, dropped={},
    )  # fmt: skip
    rans.write_table(good, table)
    lines = table.read_text().splitlines()
    header = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    col = lines[header].split(",").index("k")
    for i in range(header + 1, header + 4):
        cells = lines[i].split(",")
        cells[col] = "0"
        lines[i] = ",".join(cells)
    table.write_text("\n".join(lines) + "\n")
    assert bad.n == good.n
    res = CliRunner().invoke(app, ["closure", "predict", str(run_dir), str(table),
                                   "--out", str(tmp_path / "o")])  # fmt: skip
    text = " ".join(res.output.split())
    assert res.exit_code == 2 and "bad.csv" in text and "k" in text and "3" in text
    assert "column k: 3 of" in text and "--drop-invalid" in text
    res = CliRunner().invoke(app, ["closure", "predict", str(run_dir), str(table),
                                   "--out", str(tmp_path / "o"), "--drop-invalid"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "3 cells dropped" in " ".join(res.output.split())
