"""``flowlearn rom fit``: POD and DMD of a snapshot file, end to end on a travelling wave whose
modes and frequency are known, and every bad file named in one line with exit 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from flowlearn.cli import app
from flowlearn.safety import output_kind

runner = CliRunner()
F, DT = 0.3, 0.1


def _wave_file(path: Path, n: int = 60, time=None, **edits) -> Path:
    """u, v of a travelling wave (two POD modes, frequency F) on a 12 x 20 grid as netCDF."""
    t = np.arange(n) * DT if time is None else np.asarray(time)
    y, x = np.mgrid[0:12, 0:20] / 20.0
    phase = 2 * np.pi * (3 * x)[None] - 2 * np.pi * F * t[:, None, None]
    u = 1.0 + np.sin(phase) * np.sin(np.pi * y)[None]
    v = np.cos(phase) * np.sin(np.pi * y)[None]
    ds = xr.Dataset(
        {"u": (("time", "y", "x"), u), "v": (("time", "y", "x"), v)},
        coords={"time": t, "y": np.arange(12) * 0.05, "x": np.arange(20) * 0.05},
    )
    for name, value in edits.items():
        ds[name] = value
    ds.to_netcdf(path)
    return path


def invoke(*args):
    return runner.invoke(app, ["rom", "fit", *map(str, args)])


def test_rom_fit_finds_the_modes_and_the_frequency(tmp_path):
    src = _wave_file(tmp_path / "wave.nc")
    out = tmp_path / "rom"
    result = invoke(src, "--energy", "0.999", "--out", out, "--vtk")
    assert result.exit_code == 0, result.output
    assert "POD modes kept" in result.output and "DMD dominant frequency" in result.output
    with xr.open_dataset(out / "rom.nc") as ds:
        assert ds.attrs["pod_modes"] == 2
        assert ds.attrs["dmd_dominant_frequency"] == pytest.approx(F, rel=1e-6)
        assert ds.attrs["pod_reconstruction_error"] < 1e-10
        assert ds["pod_u"].shape == (2, 12, 20) and ds["reconstruction_v"].shape == (60, 12, 20)
        assert np.all(np.diff(ds["pod_error"].values) <= 1e-12)  # falls with every mode
    assert output_kind(out / "rom.nc") == output_kind(out / "spectrum.png") == "modal decomposition"
    vtis = sorted(p.name for p in (out / "modes").iterdir())
    assert vtis[:2] == ["dmd_mode_00.vti", "dmd_mode_01.vti"] and "pod_mode_01.vti" in vtis
    assert 'Name="velocity"' in (out / "modes" / "pod_mode_00.vti").read_text()
    # POD alone on one variable needs no even time steps; a second run replaces its own files
    uneven = _wave_file(tmp_path / "uneven.nc", n=20, time=np.cumsum(np.linspace(0.1, 0.2, 20)))
    again = invoke(uneven, "--var", "u", "--method", "pod", "--modes", "3", "--out", out)
    assert again.exit_code == 0, again.output
    with xr.open_dataset(out / "rom.nc") as ds:
        assert ds.attrs["pod_modes"] == 3 and "dmd_frequency" not in ds


@pytest.mark.parametrize(
    ("make", "args", "message"),
    [
        (lambda p: _wave_file(p, u=(("time", "y", "x"), np.where(
            np.arange(60)[:, None, None] == 9, np.nan, np.ones((60, 12, 20))))),
         (), "NaN or inf in u at snapshot 9"),
        (lambda p: _wave_file(p, n=1), (), "holds 1 snapshot(s): a decomposition needs at least 2"),
        (lambda p: _wave_file(p, n=10), ("--modes", "11"), "11 modes asked for, but 10 snapshots"),
        (lambda p: _wave_file(p, n=20, time=np.cumsum(np.linspace(0.1, 0.2, 20))), (),
         "time steps are not uniform"),
        (lambda p: _wave_file(p, w=(("time", "x"), np.ones((60, 20)))),
         ("--var", "u", "--var", "w"), "different dimensions"),
        (lambda p: _wave_file(p), ("--var", "p"), "has no variable p; it has u, v"),
        (lambda p: p, (), "no snapshot file at"),
        (lambda p: _wave_file(p), ("--method", "svd"), "choose pod, dmd, both"),
        (lambda p: _wave_file(p), ("--energy", "1.5"), "must lie in (0, 1]"),
    ],
)  # fmt: skip
def test_bad_snapshot_files_exit_2_in_one_line(tmp_path, make, args, message):
    src = make(tmp_path / "bad.nc")
    result = invoke(src, "--out", tmp_path / "rom", *args)
    text = " ".join(result.output.split())
    assert result.exit_code == 2, text
    assert message in text and "Traceback" not in text
    assert not (tmp_path / "rom" / "rom.nc").exists()


def test_a_file_flowlearn_did_not_write_is_never_replaced(tmp_path):
    src = _wave_file(tmp_path / "wave.nc")
    out = tmp_path / "rom"
    out.mkdir()
    (out / "rom.nc").write_text("my own results")
    result = invoke(src, "--out", out)
    assert result.exit_code == 2 and "--overwrite" in " ".join(result.output.split())
    assert (out / "rom.nc").read_text() == "my own results"
