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
        (simulate_app, "sphere"),
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


def test_grid_all_steps_and_vtk(tmp_path):
    """--grid sets the resolution, --all-steps ignores the tolerance, --vtk writes ParaView."""
    vti = tmp_path / "cyl.vti"
    result = runner.invoke(
        simulate_app,
        ["cylinder", "--grid", "107x20", "--steps", "600", "--all-steps", "--vtk", str(vti)],
    )
    assert result.exit_code == 0, result.output
    assert "600 steps in" in result.output and "ran all steps" in result.output
    text = vti.read_text(encoding="utf-8", errors="replace")
    assert "0 107 0 20 0 0" in text or "0 106 0 19 0 0" in text
    cav = runner.invoke(simulate_app, ["cavity", "--grid", "16x16", "--steps", "200"])
    assert cav.exit_code == 0, cav.output


def test_grid_errors_name_the_expected_value(tmp_path):
    result = runner.invoke(simulate_app, ["cylinder", "--grid", "100x20"])
    assert result.exit_code == 2
    assert "--grid 107x20" in result.output.replace("\n", " ")
    result = runner.invoke(simulate_app, ["cavity", "--grid", "16x20"])
    assert result.exit_code == 2 and "square" in result.output
    result = runner.invoke(simulate_app, ["cavity", "--grid", "big"])
    assert result.exit_code == 2 and "NXxNY" in result.output
    result = runner.invoke(
        simulate_app, ["cavity", "--steps", "10", "--vtk", str(tmp_path / "a.nc")]
    )
    assert result.exit_code == 2 and ".vti or .vtk" in result.output


def test_sphere_runs_in_3d(tmp_path):
    out = tmp_path / "sphere.vti"
    result = runner.invoke(
        simulate_app,
        ["sphere", "--cells", "4", "--re", "5", "--steps", "200", "--all-steps", "--vtk", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "Cd =" in result.output and out.exists()
