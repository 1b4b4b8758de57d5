"""The ``simulate`` and ``bench`` Typer apps: help text, a tiny run, clear errors."""

from __future__ import annotations

from typer.testing import CliRunner

from flowlearn.cli._lbm import bench_app, simulate_app

runner = CliRunner()


def test_every_command_help_ends_with_an_example():
    for app, cmd in (
        (simulate_app, "cylinder"),
        (simulate_app, "cavity"),
        (simulate_app, "shape"),
        (bench_app, "lbm"),
    ):
        result = runner.invoke(app, [cmd, "--help"], terminal_width=200)
        assert result.exit_code == 0, result.output
        last = [line.strip() for line in result.output.splitlines() if line.strip()][-1]
        assert last.startswith("Example: flowlearn"), last


def test_cavity_run_writes_netcdf(tmp_path):
    out = tmp_path / "cav.nc"
    result = runner.invoke(
        simulate_app,
        ["cavity", "--cells", "16", "--re", "10", "--steps", "500", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert out.exists()
    assert "steps in" in result.output


def test_bad_inputs_give_clear_errors(tmp_path):
    result = runner.invoke(simulate_app, ["cavity", "--re", "-3"])
    assert result.exit_code == 2
    assert "Reynolds number -3" in result.output
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    result = runner.invoke(simulate_app, ["shape", "--csv", str(empty)])
    assert result.exit_code == 2
    assert "empty" in result.output
    result = runner.invoke(simulate_app, ["cylinder", "--u-lattice", "0.3"])
    assert result.exit_code == 2
    assert "Mach number" in result.output


def test_shape_file_given_as_argument(tmp_path):
    # the form `flowlearn simulate shape my_shape.csv`: the same reader, the same errors
    empty = tmp_path / "my_shape.csv"
    empty.write_text("", encoding="utf-8")
    result = runner.invoke(simulate_app, ["shape", str(empty)])
    assert result.exit_code == 2
    assert "empty" in result.output
    other = tmp_path / "shape.txt"
    other.write_text("0,0\n1,0\n0,1\n", encoding="utf-8")
    result = runner.invoke(simulate_app, ["shape", str(other)])
    assert result.exit_code == 2
    assert "expected .csv or .png" in result.output
