"""``flowlearn dataset | predict | export | bench surrogate`` end to end on a 32x16 grid, with a
fake run directory of two untrained U-Net members (the weights do not matter to the CLI)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from flowlearn.cli import app
from flowlearn.data.flow_fields import Normaliser
from flowlearn.training import save_weights
from flowlearn.training.surrogate import build_model

runner = CliRunner()
GRID = (32, 16)


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Every test here runs on one torch thread (conftest.one_torch_thread)."""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """What `flowlearn run flow-surrogate` leaves for two U-Net members, untrained."""
    root = tmp_path_factory.mktemp("run")
    norm = Normaliser(
        in_mean=np.array([8.0, 0.0, 25.0], dtype=np.float32),
        in_std=np.array([5.0, 1.0, 9.0], dtype=np.float32),
        out_mean=np.array([1.0, 0.0, 0.5], dtype=np.float32),
        out_std=np.array([0.5, 0.2, 1.0], dtype=np.float32),
        re_range=np.array([10.0, 40.0], dtype=np.float32),
    )
    config = {"surrogate": {"architecture": "unet", "grid": list(GRID), "width": 4, "depth": 3}}
    for k in range(2):
        torch.manual_seed(k)
        net = build_model("unet", GRID, 4, 3)
        save_weights(
            root / f"models/unet-{k}/checkpoints/best.safetensors",
            net,
            config=config,
            normalisation=norm.to_dict(),
        )
    return root


@pytest.fixture
def body_csv(tmp_path) -> Path:
    """A 20-gon of radius 0.2 channel heights at (0.5, 0.5): 3.2 cells on a 16-cell channel."""
    t = np.linspace(0.0, 2.0 * np.pi, 21)
    xy = np.stack([0.5 + 0.2 * np.cos(t), 0.5 + 0.2 * np.sin(t)], axis=1)
    xy[-1] = xy[0]
    path = tmp_path / "body.csv"
    path.write_text("# units: H\nx,y\n" + "\n".join(f"{x:.6f},{y:.6f}" for x, y in xy) + "\n")
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["dataset"],
        ["dataset", "generate"],
        ["dataset", "info"],
        ["dataset", "show"],
        ["dataset", "export"],
        ["dataset", "verify"],
        ["dataset", "families"],
        ["predict"],
        ["export"],
        ["bench", "surrogate"],
        ["bench", "lbm"],
    ],
)
def test_every_help_ends_with_an_example(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0, result.output
    last = [line for line in result.output.strip().splitlines() if line.strip()][-1]
    assert f"Example: flowlearn {' '.join(command)}" in last, last


def test_dataset_generate_info_show_export(tmp_path):
    path = tmp_path / "flows.zarr"
    result = invoke(
        "dataset", "generate", path, "--n", "3", "--grid", "32x16", "--re", "10:20",
        "--families", "circle,ellipse,rectangle", "--workers", "1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "samples by status" in result.output and str(path) in result.output
    assert path.is_dir()
    again = invoke(
        "dataset", "generate", path, "--n", "3", "--grid", "32x16", "--re", "10:20",
        "--families", "circle,ellipse,rectangle", "--workers", "1",
    )  # fmt: skip
    assert again.exit_code == 0 and "nothing to compute" in again.output

    info = invoke("dataset", "info", path)
    assert info.exit_code == 0, info.output
    assert "32x16" in info.output and "circle" in info.output

    import xarray as xr

    from flowlearn.data.flow_dataset import load

    stored = [int(i) for i in load(path)["sample"].values]
    assert stored, "no sample of the tiny dataset reached a steady state"
    png = tmp_path / "s.png"
    show = invoke("dataset", "show", path, "--sample", stored[0], "--out", png)
    assert show.exit_code == 0, show.output
    assert png.stat().st_size > 1000

    nc = tmp_path / "flows.nc"
    vtk = tmp_path / "vtk"
    exp = invoke("dataset", "export", path, "--netcdf", nc, "--vtk", vtk)
    assert exp.exit_code == 0, exp.output
    with xr.open_dataset(nc) as ds:
        assert ds.sizes["sample"] == len(stored)
        assert np.isfinite(ds["u"].values).all()
    assert len(list(vtk.glob("*.vti"))) == len(stored)

    missing = invoke("dataset", "show", path, "--sample", "7")
    assert missing.exit_code == 2 and "out of range" in missing.output


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--grid", "64-32", "NXxNY"),
        ("--grid", "8x4", "too small"),
        ("--re", "ten", "LO:HI"),
        ("--re", "40:10", "0 < LO <= HI"),
        ("--families", "circle,hexagon", "unknown shape family hexagon"),
    ],
)
def test_dataset_generate_bad_values_exit_2(tmp_path, option, value, message):
    result = invoke("dataset", "generate", tmp_path / "x.zarr", "--n", "1", option, value)
    assert result.exit_code == 2
    assert message in result.output
    if option == "--families":
        assert "naca" in result.output  # the valid names are listed
    assert not (tmp_path / "x.zarr").exists()


# ------------------------------------------------------------------- dataset integrity
TINY = ["--n", "3", "--grid", "32x16", "--re", "5:15", "--families", "circle,ellipse,blob"]


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tiny") / "tiny.zarr"
    result = invoke("dataset", "generate", path, *TINY, "--workers", "1")
    assert result.exit_code == 0, result.output
    return path


def _damaged_copy(tiny_store: Path, tmp_path: Path, var: str, sample: int, how: str) -> Path:
    path = tmp_path / "copy.zarr"
    shutil.copytree(tiny_store, path)
    chunk = (
        path / var / "c" / str(sample) / ("0/0" if var in ("sdf", "mask", "u", "v", "p") else "")
    )
    data = chunk.read_bytes()
    if how == "flip":
        chunk.write_bytes(data[:12] + bytes([data[12] ^ 0xFF]) + data[13:])
    else:
        chunk.write_bytes(data[: len(data) // 2])
    return path


def test_a_damaged_sample_is_named_by_every_command_and_repaired(tiny_store, tmp_path):
    from flowlearn.data import flow_dataset as fd

    path = _damaged_copy(tiny_store, tmp_path, "u", 1, "flip")
    info = invoke("dataset", "info", path)
    text = " ".join(info.output.split())
    assert info.exit_code == 1, info.output
    assert "1 damaged: 1: u: Stored and computed checksum do not match" in text
    verify = invoke("dataset", "verify", path)
    assert verify.exit_code == 1 and "1 damaged" in verify.output
    png = tmp_path / "s1.png"
    show = invoke("dataset", "show", path, "--sample", "1", "--out", png)
    assert show.exit_code == 2 and "sample 1 of" in show.output and "is damaged" in show.output
    assert not png.exists() and "Traceback" not in show.output
    export = invoke("dataset", "export", path, "--netcdf", tmp_path / "x.nc")
    assert export.exit_code == 2 and "damaged (1; sample 1" in export.output
    again = invoke("dataset", "generate", path, *TINY, "--workers", "1")
    assert again.exit_code == 0, again.output
    assert "found 1 damaged sample(s) and computed them again: 1 (u:" in again.output
    assert invoke("dataset", "verify", path).exit_code == 0
    np.testing.assert_array_equal(fd.read(path)["u"].values, fd.read(tiny_store)["u"].values)


def test_a_damaged_status_or_truncated_chunk_gives_one_line(tiny_store, tmp_path):
    path = _damaged_copy(tiny_store, tmp_path, "status", 0, "truncate")
    info = invoke("dataset", "info", path)
    assert info.exit_code == 2, info.output
    assert "the status of sample(s) 0 is damaged" in " ".join(info.output.split())
    assert "Traceback" not in info.output and "zstd" not in info.output.lower()
    shutil.rmtree(path)
    path = _damaged_copy(tiny_store, tmp_path, "v", 2, "truncate")
    info = invoke("dataset", "info", path)
    assert info.exit_code == 1 and "1 damaged: 2: v:" in " ".join(info.output.split())


def test_verify_seals_an_old_store(tiny_store, tmp_path):
    import xarray as xr

    path = tmp_path / "old.zarr"
    ds = xr.open_zarr(tiny_store, consolidated=False)
    for var in ds.variables.values():
        var.encoding = {k: v for k, v in var.encoding.items() if k == "chunks"}
    ds.to_zarr(path, consolidated=False, zarr_format=3)
    plain = invoke("dataset", "verify", path)
    assert plain.exit_code == 0 and "written before checksums" in plain.output
    assert "--add-checksums" in plain.output
    sealed = invoke("dataset", "verify", path, "--add-checksums")
    assert sealed.exit_code == 0 and "CRC32C per chunk" in sealed.output, sealed.output
    assert "unverified" not in sealed.output


def test_dataset_generate_refuses_a_busy_store_and_a_foreign_folder(tmp_path):
    from conftest import tree_bytes
    from flowlearn.data.sample_store import store_lock

    path = tmp_path / "busy.zarr"
    with store_lock(path):
        busy = invoke("dataset", "generate", path, *TINY, "--workers", "1")
    assert busy.exit_code == 2 and "another flowlearn process is generating" in busy.output
    assert not path.exists()
    folder = tmp_path / "mine"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "data.bin").write_bytes(b"\x00\x01")
    before = tree_bytes(folder)
    refused = invoke("dataset", "generate", f"{folder}/", *TINY, "--workers", "1")
    assert refused.exit_code == 2 and "flowlearn never writes into it" in refused.output
    assert tree_bytes(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy.zarr.lock", "mine"]


def test_dataset_generate_checks_memory_first(tmp_path, monkeypatch):
    path = tmp_path / "big.zarr"
    huge = invoke("dataset", "generate", path, "--n", "2", "--grid", "100000x100000")
    assert huge.exit_code == 2 and "TiB" in huge.output and "--workers" in huge.output
    monkeypatch.setenv("FLOWLEARN_MEMORY_LIMIT", "200M")
    low = invoke("dataset", "generate", path, "--n", "2", "--grid", "2048x1024", "--workers", "2")
    text = " ".join(low.output.split())
    assert low.exit_code == 2, text
    assert "generating 2048x1024 samples with 2 worker(s) needs about" in text
    assert "200 MiB available (FLOWLEARN_MEMORY_LIMIT)" in text
    assert not path.exists() and not list(tmp_path.iterdir())


def test_predict_writes_three_files(run_dir, body_csv, tmp_path):
    import xarray as xr

    out = tmp_path / "pred"
    result = invoke("predict", run_dir, "--shape", body_csv, "--re", "20", "--out", out)
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    for name in ("prediction.nc", "prediction.vti", "prediction.png"):
        assert (out / name).stat().st_size > 0, name
    with xr.open_dataset(out / "prediction.nc") as ds:
        assert ds["u"].dims == ("y", "x") and ds.sizes == {"y": 16, "x": 32}
        for var in ("u", "v", "p", "speed", "spread_u", "spread_v", "spread_p", "sdf"):
            assert np.isfinite(ds[var].values).all(), var
        assert ds.attrs["members"] == 2 and ds.attrs["re"] == 20
        assert ds["mask"].values.sum() > 10  # a 3.2-cell radius disc
        assert (ds["spread_u"].values > 0).any()  # two different members
    vti = (out / "prediction.vti").read_text()
    assert 'Name="velocity"' in vti and 'Name="spread_u"' in vti


def test_predict_compare_reports_the_error(run_dir, body_csv, tmp_path):
    import xarray as xr

    out = tmp_path / "cmp"
    result = invoke(
        "predict", run_dir, "--shape", body_csv, "--re", "15", "--out", out, "--compare"
    )
    assert result.exit_code == 0, result.output
    assert "relative velocity error" in result.output and "MSE u" in result.output
    assert "LBM time to steady state" in result.output
    with xr.open_dataset(out / "prediction.nc") as ds:
        err = ds.attrs["relative_velocity_error"]
        assert math.isfinite(err) and err > 0
        assert "u_lbm" in ds and "velocity_error" in ds


def test_predict_outside_the_reynolds_range_warns_and_goes_on(run_dir, body_csv, tmp_path):
    result = invoke("predict", run_dir, "--shape", body_csv, "--re", "90", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert "warning" in result.output and "outside the trained range 10-40" in result.output
    assert (tmp_path / "prediction.nc").exists()


def test_predict_errors_exit_2(run_dir, body_csv, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("predict", empty, "--shape", body_csv, "--re", "20")
    assert result.exit_code == 2 and "holds no unet surrogate checkpoint" in result.output

    broken = tmp_path / "broken"
    shutil.copytree(run_dir, broken)
    ckpt = broken / "models/unet-1/checkpoints/best.safetensors"
    ckpt.write_bytes(ckpt.read_bytes()[:200])
    result = invoke("predict", broken, "--shape", body_csv, "--re", "20")
    assert result.exit_code == 2
    assert "cannot load the surrogate" in result.output and "unet-1" in result.output

    # a checkpoint written by another flowlearn version is refused, naming both versions
    import flowlearn
    from flowlearn.training import _checkpoint
    from flowlearn.training.surrogate import build_model as _build

    older = tmp_path / "older"
    shutil.copytree(run_dir, older)
    ckpt = older / "models/unet-0/checkpoints/best.safetensors"
    original = _checkpoint.__version__
    _checkpoint.__version__ = "0.0.1"
    try:
        save_weights(ckpt, _build("unet", GRID, 4, 3), config={"surrogate": {
            "architecture": "unet", "grid": list(GRID), "width": 4, "depth": 3}})  # fmt: skip
    finally:
        _checkpoint.__version__ = original
    result = invoke("predict", older, "--shape", body_csv, "--re", "20")
    assert result.exit_code == 2
    assert "0.0.1" in result.output and flowlearn.__version__ in result.output

    outside = tmp_path / "outside.csv"
    outside.write_text("# units: H\n1.5,0.5\n2.5,0.4\n2.5,0.6\n1.5,0.5\n")
    result = invoke("predict", run_dir, "--shape", outside, "--re", "20")
    assert result.exit_code == 2 and "outside the domain" in result.output

    from PIL import Image

    img = np.full((10, 20), 255, dtype=np.uint8)
    img[4:6, 5:8] = 0
    png = tmp_path / "mask.png"
    Image.fromarray(img).save(png)
    result = invoke("predict", run_dir, "--shape", png, "--re", "20")
    assert result.exit_code == 2 and "20x10 pixels" in result.output and "32x16" in result.output


# ------------------------------------------------------------------ checkpoint integrity
def _run_copy(run_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    return copy


def _zero_tensor(path: Path, name: str) -> None:
    from conftest import safetensors_parts, write_safetensors_parts

    header, body = safetensors_parts(path)
    start, end = header[name]["data_offsets"]
    write_safetensors_parts(path, header, body[:start] + bytes(end - start) + body[end:])


def _predict(run: Path, body_csv: Path, out: Path, *extra: str):
    return invoke("predict", run, "--shape", body_csv, "--re", "20", "--out", out, *extra)


def test_a_stray_folder_in_models_is_not_a_member(run_dir, body_csv, tmp_path):
    run = _run_copy(run_dir, tmp_path)
    shutil.copytree(run / "models" / "unet-0", run / "models" / "unet-0-old")
    (run / "models" / "unet-notes").mkdir()
    result = _predict(run, body_csv, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "2 member(s)" in result.output


def test_damaged_checkpoint_numbers_are_refused_no_nan_reaches_a_file(run_dir, body_csv, tmp_path):
    run = _run_copy(run_dir, tmp_path)
    ckpt = run / "models" / "unet-1" / "checkpoints" / "best.safetensors"
    _zero_tensor(ckpt, "flowlearn/normalisation/out_std")
    out = tmp_path / "out"
    result = _predict(run, body_csv, out)
    assert result.exit_code == 2, result.output
    assert "unet-1" in result.output and "do not match the digest" in result.output
    assert not out.exists()
    # the same damage in a checkpoint written before digests: the statistics are checked
    from conftest import as_layout_1

    as_layout_1(ckpt)
    result = _predict(run, body_csv, out)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "out_std" in text and "deviation <= 0" in text
    assert "warning: " in text and "written before checkpoints carried a digest" in text
    assert not out.exists()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s["config"]["surrogate"].update(architecture="resnet"), "architecture:"),
        (lambda s: s["config"]["surrogate"].pop("width"), "width: Field required"),
        (lambda s: s["config"]["surrogate"].update(grid=[30, 16]), "multiples of 8"),
        (lambda s: s["config"]["surrogate"].update(width=4096), "needs about"),
    ],
)
def test_edited_metadata_gives_one_line(run_dir, body_csv, tmp_path, edit, message):
    from conftest import as_layout_1, safetensors_parts, write_safetensors_parts

    run = _run_copy(run_dir, tmp_path)
    ckpt = run / "models" / "unet-0" / "checkpoints" / "best.safetensors"
    header, body = safetensors_parts(ckpt)  # with its digest, any edit is refused as such
    header["__metadata__"]["flowlearn"] = header["__metadata__"]["flowlearn"].replace(
        '"width":4', '"width":5'
    )
    write_safetensors_parts(ckpt, header, body)
    result = _predict(run, body_csv, tmp_path / "out")
    assert result.exit_code == 2 and "edited after it was saved" in result.output
    shutil.copy(run_dir / "models" / "unet-0" / "checkpoints" / "best.safetensors", ckpt)
    as_layout_1(ckpt, edit)  # without a digest, the section itself is checked
    result = _predict(run, body_csv, tmp_path / "out")
    text = " ".join(result.output.split())
    assert result.exit_code == 2, text
    assert message in text and "Traceback" not in text


def test_version_mismatch_has_a_command_line_answer(run_dir, body_csv, tmp_path, monkeypatch):
    from flowlearn.training import _checkpoint

    run = _run_copy(run_dir, tmp_path)
    monkeypatch.setattr(_checkpoint, "__version__", "0.0.1")
    for k in range(2):
        path = run / f"models/unet-{k}/checkpoints/best.safetensors"
        _checkpoint.write_checkpoint(_checkpoint._Reader(path).read_all(), path)
    monkeypatch.undo()
    refused = _predict(run, body_csv, tmp_path / "out")
    text = " ".join(refused.output.split())
    assert refused.exit_code == 2 and "add --allow-version-mismatch to the command" in text
    allowed = _predict(run, body_csv, tmp_path / "out", "--allow-version-mismatch")
    assert allowed.exit_code == 0, allowed.output


def test_predict_out_is_checked_before_computing(run_dir, body_csv, tmp_path, read_only_dir):
    from conftest import tree_bytes

    plain = tmp_path / "a-file"
    plain.write_text("mine")
    result = _predict(run_dir, body_csv, plain)
    assert result.exit_code == 2 and "is a file, not a folder" in result.output
    result = _predict(run_dir, body_csv, read_only_dir / "out")
    assert result.exit_code == 2 and "cannot write into the folder" in result.output
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "prediction.nc").write_bytes(b"my own prediction.nc")
    before = tree_bytes(folder)
    result = _predict(run_dir, body_csv, folder)
    assert result.exit_code == 2 and "--overwrite" in result.output, result.output
    assert tree_bytes(folder) == before
    assert _predict(run_dir, body_csv, folder, "--overwrite").exit_code == 0
    assert _predict(run_dir, body_csv, folder).exit_code == 0  # its own: replaced


def test_predict_from_a_png_mask(run_dir, tmp_path):
    from PIL import Image

    img = np.full((16, 32), 255, dtype=np.uint8)
    img[6:10, 7:11] = 0
    png = tmp_path / "square.png"
    Image.fromarray(img).save(png)
    result = invoke("predict", run_dir, "--shape", png, "--re", "20", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "prediction.png").exists()


def test_export_onnx_writes_model_and_normalisation(run_dir, tmp_path):
    pytest.importorskip("onnxscript")
    pytest.importorskip("onnxruntime")
    out = tmp_path / "model.onnx"
    result = invoke("export", run_dir, "--onnx", "--out", out, "--member", "1")
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["input"]["channels"] == ["sdf", "mask", "re"]
    assert meta["output"]["channels"] == ["u", "v", "p"]
    assert meta["grid"] == list(GRID) and meta["re_range"] == [10.0, 40.0]
    assert meta["member"] == 1 and len(meta["output"]["out_std"]) == 3
    assert meta["check"]["max_abs_diff"] <= 1e-4
    assert "max abs difference" in result.output

    bad = invoke("export", run_dir, "--onnx", "--member", "2", "--out", out)
    assert bad.exit_code == 2 and "0..1" in bad.output


def test_bench_surrogate_json(run_dir):
    result = invoke("bench", "surrogate", run_dir, "--n-lbm", "1", "--repeats", "1", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["grid"] == list(GRID)
    assert data["lbm"]["ok"] == 1 and data["lbm"]["mean_s"] > 0
    for b in ("1", "64"):
        assert data["surrogate"]["per_sample_s"][b] > 0
        assert data["speedup"][b] > 0
    assert data["surrogate"]["members"] == 2
    # one core each by default; --threads sets both, and torch's own setting comes back after
    assert data["threads"] == {"lbm": 1, "torch": 1}
    assert data["surrogate"]["torch_threads"] == 1
    before = torch.get_num_threads()
    two = invoke("bench", "surrogate", run_dir, "--n-lbm", "1", "--repeats", "1", "--json",
                 "--threads", "2")  # fmt: skip
    assert json.loads(two.stdout)["threads"] == {"lbm": 2, "torch": 2}
    assert torch.get_num_threads() == before


def test_bench_surrogate_untrained_guo_and_bad_architecture():
    result = invoke(
        "bench", "surrogate", "--grid", "32x16", "--architecture", "guo", "--n-lbm", "1",
        "--repeats", "1", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert "GuoCNN" in data["surrogate"]["model"] and data["speedup"]["64"] > 0
    bad = invoke("bench", "surrogate", "--architecture", "vit")
    assert bad.exit_code == 2 and "unet or guo" in bad.output


# ---------------------------------------------------------------- the remaining bad inputs
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "{run}"], "choose the export format: --onnx"),
        (["export", "{run}", "--onnx", "--out", "{tmp}/m.txt"], "must end in .onnx"),
        (
            ["predict", "{run}", "--shape", "{csv}", "--re", "0"],
            "Reynolds number 0 must be positive",
        ),
        (["predict", "{run}", "--shape", "{csv}", "--re", "-5"], "must be positive"),
        (["bench", "surrogate", "--grid", "36x16"], "multiples of 8"),
        (["dataset", "export", "{tmp}/none.zarr"], "give --netcdf FILE.nc and/or --vtk FOLDER"),
        (["dataset", "info", "{tmp}/none.zarr"], "no dataset at"),
        (["dataset", "verify", "{tmp}/none.zarr"], "no dataset at"),
    ],
)
def test_bad_inputs_exit_2_in_one_line(run_dir, body_csv, tmp_path, args, message):
    filled = [a.format(run=run_dir, csv=body_csv, tmp=tmp_path) for a in args]
    result = runner.invoke(app, filled)
    text = " ".join(result.output.split())
    assert result.exit_code == 2, text
    assert message in text and "Traceback" not in text
    assert not (tmp_path / "m.txt").exists()


# ---------------------------------------------------------------- one CSV convention
def _triangle(path: Path, units_line: str, scale: float) -> Path:
    """A triangle at 0.5-0.8 channel heights from the inlet, 0.35-0.65 above the wall."""
    rows = np.array([[0.5, 0.35], [0.8, 0.5], [0.5, 0.65], [0.5, 0.35]]) * scale
    path.write_text(units_line + "x,y\n" + "\n".join(f"{x},{y}" for x, y in rows) + "\n")
    return path


def test_simulate_and_predict_place_a_csv_body_identically(run_dir, tmp_path):
    """The same CSV means the same body in `simulate shape` (the 0.41 m Schäfer–Turek channel)
    and in `predict` (the surrogate's channel): its extent, measured in channel heights, is the
    same in both, whichever units the file is written in."""
    import xarray as xr

    ny = GRID[1]
    in_heights = _triangle(tmp_path / "h.csv", "# units: H\n", 1.0)
    in_metres = _triangle(tmp_path / "m.csv", "# units: m\n", 0.41)
    boxes = []
    for csv in (in_heights, in_metres):
        out = tmp_path / f"pred-{csv.stem}"
        assert _predict(run_dir, csv, out).exit_code == 0
        mask = xr.open_dataset(out / "prediction.nc")["mask"].values.astype(bool)
        sim = tmp_path / f"sim-{csv.stem}.nc"
        result = invoke(
            "simulate", "shape", csv, "--grid", f"{round(2.2 / 0.41 * 64)}x64", "--steps", "1",
            "--all-steps", "--out", sim,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        sim_mask = xr.open_dataset(sim)["mask"].values.astype(bool)
        for m, cells in ((mask, ny), (sim_mask, sim_mask.shape[0])):
            rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
            boxes.append(np.array([cols.min(), cols.max() + 1, rows.min(), rows.max() + 1]) / cells)
    # in channel heights: 0.5-0.8 along, 0.35-0.65 across, to a cell of each grid
    for box in boxes:
        np.testing.assert_allclose(box, [0.5, 0.8, 0.35, 0.65], atol=1.5 / ny)


@pytest.mark.parametrize(
    ("units_line", "extra", "message"),
    [
        ("", [], "does not say its units: add a first line '# units: m'"),
        ("# units: mm\n", [], "the file declares units 'mm'"),
        ("# units: H\n", ["--units", "m"], "declares units 'H' but --units is 'm'"),
    ],
)
def test_a_csv_without_clear_units_is_refused_by_both_commands(
    run_dir, tmp_path, units_line, extra, message
):
    csv = _triangle(tmp_path / "body.csv", units_line, 1.0)
    predicted = _predict(run_dir, csv, tmp_path / "out", *extra)
    simulated = invoke("simulate", "shape", csv, "--steps", "1", *extra)
    for result in (predicted, simulated):
        text = " ".join(result.output.split())
        assert result.exit_code == 2 and message in text, text
    assert not (tmp_path / "out").exists()
    ok = _predict(run_dir, csv, tmp_path / "out", "--units", "H") if not units_line else None
    assert ok is None or ok.exit_code == 0


# ---------------------------------------------------------------- the exact mode, the speed
def test_predict_refine_writes_the_converged_fields(run_dir, body_csv, tmp_path):
    """--refine starts the LBM from the (untrained) prediction: the written fields are the
    LBM's steady state, equal to --compare's cold start within the tolerance."""
    import xarray as xr

    out = tmp_path / "refined"
    result = invoke("predict", run_dir, "--shape", body_csv, "--re", "15", "--out", out,
                    "--refine", "--compare")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "exact mode" in result.output and "steps to the dataset's tolerance" in result.output
    with xr.open_dataset(out / "prediction.nc") as ds:
        assert ds.attrs["refined"] == 1 and ds.attrs["refine_steady"] == 1
        fluid = ds["mask"].values == 0
        for c in ("u", "v"):
            assert f"{c}_surrogate" in ds
            diff = np.abs(ds[c].values - ds[f"{c}_lbm"].values)[fluid].max()
            assert diff < 1e-3, diff
        # the untrained network's guess is far off; the refined field is not
        assert ds.attrs["relative_velocity_error"] < 1e-3


def test_predict_refine_a_setting_the_solver_refuses_exits_2(run_dir, body_csv, tmp_path):
    result = runner.invoke(
        app, ["predict", str(run_dir), "--shape", str(body_csv), "--re", "50000", "--out",
              str(tmp_path / "p"), "--refine"],
    )  # fmt: skip
    text = " ".join(result.output.split())
    assert result.exit_code == 2, text
    assert "the solver cannot set up this body" in text and "tau" in text
    assert not (tmp_path / "p" / "prediction.nc").exists()
    # a body drawn on another grid than the run's: refused before any solver runs
    from PIL import Image

    img = np.full((10, 20), 255, dtype=np.uint8)
    img[4:6, 5:8] = 0
    png = tmp_path / "mask.png"
    Image.fromarray(img).save(png)
    other = runner.invoke(app, ["predict", str(run_dir), "--shape", str(png), "--re", "20",
                                "--out", str(tmp_path / "p"), "--refine"])  # fmt: skip
    assert other.exit_code == 2 and "20x10 pixels" in other.output and "32x16" in other.output


def test_bench_surrogate_equal_accuracy(run_dir):
    result = invoke("bench", "surrogate", run_dir, "--n-lbm", "1", "--repeats", "1", "--json",
                    "--equal-accuracy", "2")  # fmt: skip
    assert result.exit_code == 0, result.output
    speed = json.loads(result.stdout)["cost_accuracy"]
    assert speed["samples"] == 2 and speed["front"]
    net = speed["networks"]["ensemble"]
    assert net["equal_accuracy"]["64"]["speedup"] > 0
    assert net["break_even"]["64"]["pays_off"] is None  # a fake run: no cost record
    assert speed["warm"]["ensemble"]["max_difference"] < 1e-3
    no_run = runner.invoke(app, ["bench", "surrogate", "--equal-accuracy", "2"])
    assert no_run.exit_code == 2 and "needs RUN_DIR" in no_run.output
