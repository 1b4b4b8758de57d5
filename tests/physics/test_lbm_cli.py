"""The ``simulate`` and ``bench`` Typer apps: help text, a tiny run, clear errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from flowlearn.cli._bench import bench_app
from flowlearn.cli._lbm import simulate_app

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


# ------------------------------------------------------------------------ outputs are safe
CAVITY = ["cavity", "--cells", "16", "--re", "10", "--steps", "200"]


def _user_folder(root):
    folder = root / "results.zarr"
    (folder / "notes").mkdir(parents=True)
    (folder / "notes" / "todo.txt").write_text("my notes\n", encoding="utf-8")
    (folder / "run.csv").write_bytes(b"1,2,3\n")
    return folder


def test_out_never_removes_a_folder_flowlearn_did_not_write(tmp_path):
    from conftest import tree_bytes

    folder = _user_folder(tmp_path)
    before = tree_bytes(folder)
    for extra in ([], ["--overwrite"]):
        result = runner.invoke(simulate_app, [*CAVITY, "--out", str(folder), *extra])
        assert result.exit_code == 2, result.output
        assert "flowlearn never removes it" in result.output
        assert "steps in" not in result.output, "refused before computing"
        assert tree_bytes(folder) == before


def test_out_refuses_a_dataset_store_even_with_overwrite(tmp_path):
    """A training dataset is a flowlearn output of another kind: never replaced by simulate."""
    from conftest import tree_bytes
    from flowlearn.data import flow_dataset as fd

    store = tmp_path / "train.zarr"
    fd.generate(fd.FlowDatasetSpec(grid=(32, 16), n=1, re=(5.0, 10.0)), store)
    before = tree_bytes(store)
    result = runner.invoke(simulate_app, [*CAVITY, "--out", str(store), "--overwrite"])
    assert result.exit_code == 2 and "flowlearn dataset" in result.output, result.output
    assert tree_bytes(store) == before


def test_out_replaces_its_own_flow_field_and_asks_for_other_files(tmp_path):
    import xarray as xr

    for name in ("cav.nc", "cav.zarr", "cav.vti", "cav.vtk"):
        out = tmp_path / name
        for _ in range(2):  # the second run replaces the first one's flow field
            result = runner.invoke(simulate_app, [*CAVITY, "--out", str(out)])
            assert result.exit_code == 0, result.output
        assert out.exists()
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no leftovers"
    assert xr.open_dataset(tmp_path / "cav.nc").attrs["flowlearn_output"] == "flow field"
    mine = tmp_path / "mine.nc"
    mine.write_bytes(b"my measurements")
    result = runner.invoke(simulate_app, [*CAVITY, "--out", str(mine)])
    assert result.exit_code == 2 and "--overwrite" in result.output, result.output
    assert mine.read_bytes() == b"my measurements"
    result = runner.invoke(simulate_app, [*CAVITY, "--out", str(mine), "--overwrite"])
    assert result.exit_code == 0, result.output
    assert xr.open_dataset(mine).attrs["flowlearn_output"] == "flow field"


def test_out_is_checked_before_computing(tmp_path, read_only_dir):
    cases = {
        str(tmp_path / "nodir" / "x.nc"): "does not exist",
        str(tmp_path / "x.txt"): "the file must end in .zarr, .nc",
        str(read_only_dir / "x.nc"): "cannot write into the folder",
    }
    (tmp_path / "plain").write_text("a file", encoding="utf-8")
    cases[str(tmp_path / "plain" / "x.nc")] = "is a file, not a folder"
    for out, message in cases.items():
        # 10^6 steps would take minutes: a refusal after computing would time the test out
        result = runner.invoke(
            simulate_app, ["cavity", "--cells", "64", "--steps", "1000000", "--out", out]
        )
        assert result.exit_code == 2, (out, result.output)
        assert message in result.output, (out, result.output)
        assert "Permission denied" not in result.output or "cannot write" in result.output
        assert "steps in" not in result.output


def test_memory_is_checked_before_allocating(monkeypatch):
    # 10^10 cells: the estimate is terabytes, refused without allocating anything
    result = runner.invoke(simulate_app, ["cavity", "--grid", "100000x100000"])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "100000x100000 D2Q9 lattice" in text and "TiB" in text
    assert "--cells or --grid" in text
    # a lowered limit (a small container) refuses a lattice that fits this machine
    monkeypatch.setenv("FLOWLEARN_MEMORY_LIMIT", "4M")
    result = runner.invoke(simulate_app, ["cavity", "--cells", "128", "--steps", "10"])
    text = " ".join(result.output.split())
    assert result.exit_code == 2, text
    assert "more than the 4 MiB available (FLOWLEARN_MEMORY_LIMIT)" in text
    monkeypatch.setenv("FLOWLEARN_MEMORY_LIMIT", "1G")
    assert runner.invoke(simulate_app, ["cavity", "--cells", "128", "--steps", "10"]).exit_code == 0


# ------------------------------------------------------------------------ bench lbm output
def test_kernels_are_vectorised_on_this_machine():
    """A fresh install lacked py-cpuinfo: pystencils then finds no x86 vector target and the
    kernels run at ~60 % of their speed. The dependency is declared; this fails without it."""
    import platform

    from flowlearn.physics.lbm import vector_instruction_set

    machine = platform.machine()
    if machine not in ("x86_64", "AMD64", "i386", "x86", "arm64", "aarch64", "ARM64"):
        pytest.skip(f"pystencils knows no vector targets on {machine}")
    isa = vector_instruction_set()
    assert isa is not None, "pystencils found no vector instruction set: is py-cpuinfo installed?"
    assert isa.startswith(("X86_", "ARM_"))


def _canned_bench(isa):
    row = {
        "case": "8 cylinders 256x128 (batched data-generation case)",
        "stencil": "D2Q9",
        "dtype": "float32",
        "shape": [1024, 1024],
        "threads": 2,
        "mlups": 399.0,
        "bound_mlups": 420.0,
        "fraction": 0.95,
    }
    return {
        "threads": 2,
        "vector_instruction_set": isa,
        "bandwidth_gbs": {"copy": 30.0, "triad": 31.0},
        "rows": [row],
        "best": [row],
        "obstacle_vs_bare": {},
    }


@pytest.mark.parametrize("isa", ["X86_AVX512", None])
def test_bench_lbm_says_the_instruction_set_and_prints_whole_tables(monkeypatch, isa):
    from flowlearn.cli import app
    from flowlearn.evaluation import lbm_bench

    monkeypatch.setattr(lbm_bench, "run_benchmark", lambda **kw: _canned_bench(isa))
    monkeypatch.delenv("COLUMNS", raising=False)
    result = runner.invoke(app, ["bench", "lbm", "--quick"])
    assert result.exit_code == 0, result.output
    assert "8 cylinders 256x128 (batched data-generation case)" in result.output
    assert "1024x1024" in result.output and "…" not in result.output
    if isa:
        assert "kernels vectorised for X86_AVX512" in result.output
    else:
        assert "py-cpuinfo is missing" in " ".join(result.output.split())


def test_bench_lbm_json_never_replaces_a_users_file(monkeypatch, tmp_path):
    from flowlearn.cli import app
    from flowlearn.evaluation import lbm_bench

    ran = []
    monkeypatch.setattr(
        lbm_bench, "run_benchmark", lambda **kw: ran.append(1) or _canned_bench("X86_AVX512")
    )
    mine = tmp_path / "results.json"
    mine.write_text('{"my": "measurements"}')
    result = runner.invoke(app, ["bench", "lbm", "--json", str(mine)])
    assert result.exit_code == 2 and "not a flowlearn lbm benchmark" in result.output
    assert mine.read_text() == '{"my": "measurements"}' and not ran, "refused before running"
    ours = tmp_path / "bench.json"
    for _ in range(2):  # its own output is replaced
        assert runner.invoke(app, ["bench", "lbm", "--json", str(ours)]).exit_code == 0
    assert json.loads(ours.read_text())["vector_instruction_set"] == "X86_AVX512"
