"""The command line end to end, at the smallest sizes: list, run, report, tour, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from markupsafe import escape
from typer.testing import CliRunner

from flowlearn.cli import app
from flowlearn.experiments import load_run, names

runner = CliRunner()
TALK_ORDER = ["capacity", "dimensionality", "filters", "neuron"]


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_list_names_every_experiment_in_talk_order():
    result = invoke("list")
    assert result.exit_code == 0
    positions = [result.output.find(name) for name in TALK_ORDER]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
    assert names()[: len(TALK_ORDER)] == TALK_ORDER


@pytest.mark.parametrize("command", ["list", "run", "report", "tour"])
def test_every_help_ends_with_an_example(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    last = [line for line in result.output.strip().splitlines() if line.strip()][-1]
    assert re.search(r"Example: flowlearn " + command, last), last


def test_unknown_experiment_exits_2_and_lists_names(tmp_path):
    result = runner.invoke(app, ["run", "capacityy", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown experiment 'capacityy'" in result.output
    assert all(n in result.output for n in TALK_ORDER)


def test_unknown_option_exits_2():
    result = runner.invoke(app, ["run", "capacity", "--fast"])
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_unknown_set_key_exits_2_and_lists_keys(tmp_path):
    result = runner.invoke(
        app, ["run", "dimensionality", "--set", "nope=1", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "unknown config key 'nope'" in result.output and "seed" in result.output
    assert not (tmp_path / "dimensionality").exists()


def test_out_of_range_value_exits_2_naming_field_and_limit(tmp_path):
    result = runner.invoke(app, ["run", "neuron", "--set", "noise=0.9", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "noise" in result.output and "0.9" in result.output


def test_report_of_a_folder_that_is_no_run(tmp_path):
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a finished flowlearn run" in result.output


def _figures_in(html: str) -> set[str]:
    return set(re.findall(r'data-name="([^"]+)"', html))


def _assert_self_contained(html: str) -> None:
    srcs = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert srcs, "a report without figures"
    assert all(s.startswith("data:image/png;base64,") for s in srcs), srcs
    assert "http://" not in html and "https://" not in html


def test_run_then_report_then_rerun_from_config(tmp_path):
    result = invoke("run", "dimensionality", "--quick", "--seed", "3", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "quick mode, expected" in result.output
    (run_dir,) = (tmp_path / "dimensionality").iterdir()
    for name in ("config.yaml", "metrics.json", "arrays.npz", "run.log", "report.html"):
        assert (run_dir / name).is_file(), name
    html = (run_dir / "report.html").read_text()
    pngs = {p.stem for p in (run_dir / "figures").glob("*.png")}
    assert pngs and _figures_in(html) == pngs
    _assert_self_contained(html)

    # re-render from saved metrics and arrays only
    (run_dir / "report.html").unlink()
    for png in (run_dir / "figures").glob("*.png"):
        png.unlink()
    assert invoke("report", str(run_dir)).exit_code == 0
    assert _figures_in((run_dir / "report.html").read_text()) == pngs

    # the saved config reproduces the run, in a new directory
    again = invoke(
        "run", "dimensionality", "--config", str(run_dir / "config.yaml"), "--out", str(tmp_path)
    )
    assert again.exit_code == 0, again.output
    # the measured run time belongs to the default config, not to a config file
    assert "quick mode with your settings; the default takes" in again.output
    runs = sorted((tmp_path / "dimensionality").iterdir())
    assert len(runs) == 2
    first, second = (json.loads((r / "metrics.json").read_text()) for r in runs)
    assert first["metrics"] == second["metrics"] and first["claims"] == second["claims"]


def test_tour_writes_one_page_with_claims_and_figures(tmp_path):
    result = invoke("tour", "--quick", "--only", "dimensionality", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    (page,) = Path(tmp_path, "tour").glob("*/tour.html")
    html = page.read_text()
    run = load_run(next((tmp_path / "dimensionality").iterdir()))
    assert run.claims
    assert all(str(escape(c.slide)) in html and str(escape(c.measured)) in html for c in run.claims)
    assert ("reproduced" in html) and _figures_in(html)
    _assert_self_contained(html)


def test_tour_only_with_unknown_name(tmp_path):
    result = runner.invoke(app, ["tour", "--only", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "valid names" in result.output


def test_cuda_without_a_gpu_is_refused_before_the_run(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = runner.invoke(
        app, ["run", "filters", "--quick", "--device", "cuda", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "no CUDA device" in result.output
    assert not (tmp_path / "filters").exists()


def _commands(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_no_help_text_loses_words_to_rich_markup():
    """Help is rendered as Rich markup: an unescaped "[seed, i]" would print as nothing."""
    import typer
    from rich.text import Text

    lost = []
    for path, command in _commands(typer.main.get_command(app)):
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        lost += [(" ".join(path), t) for t in texts if Text.from_markup(t).plain != t]
    assert not lost, lost


# ------------------------------------------------------------------ one line, never a trace
def _nothing_made(out: Path) -> bool:
    return not out.exists() or not any(out.iterdir())


def test_a_binary_config_file_is_refused_in_one_line(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_bytes(bytes(range(256)) * 4)
    out = tmp_path / "runs"
    result = runner.invoke(app, ["run", "capacity", "--config", str(config), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "is not text (not UTF-8)" in result.output and result.exception is not None
    assert "Traceback" not in result.output and _nothing_made(out)


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ("[8,8]", "grid 8x8 is too small: use at least 16x8 cells"),
        ("[60,32]", "both sides must be multiples of 8"),
        ("[100000,100000]", "flow-surrogate on a 100000x100000 grid needs about"),
    ],
)
def test_flow_surrogate_config_is_checked_before_a_run_directory(tmp_path, grid, message):
    out = tmp_path / "runs"
    result = runner.invoke(
        app, ["run", "flow-surrogate", "--set", f"grid={grid}", "--out", str(out)]
    )
    text = " ".join(result.output.split())
    assert result.exit_code == 2, text
    assert message in text and "Traceback" not in text
    assert _nothing_made(out), "no half-made run directory"


def test_flow_surrogate_memory_limit_names_the_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWLEARN_MEMORY_LIMIT", "64M")
    out = tmp_path / "runs"
    result = runner.invoke(app, ["run", "flow-surrogate", "--quick", "--out", str(out)])
    text = " ".join(result.output.split())
    assert result.exit_code == 2, text
    assert "more than the 64 MiB available (FLOWLEARN_MEMORY_LIMIT)" in text
    assert "lower grid, n_samples, workers, batch_size or width" in text
    assert _nothing_made(out)


def test_run_out_is_checked_before_running(tmp_path, read_only_dir):
    plain = tmp_path / "a-file"
    plain.write_text("mine")
    result = runner.invoke(app, ["run", "dimensionality", "--quick", "--out", str(plain)])
    assert result.exit_code == 2 and "is a file, not a folder" in result.output
    assert plain.read_text() == "mine"
    result = runner.invoke(
        app, ["run", "dimensionality", "--quick", "--out", str(read_only_dir / "runs")]
    )
    assert result.exit_code == 2 and "cannot write into the folder" in result.output
    result = runner.invoke(app, ["tour", "--quick", "--out", str(plain)])
    assert result.exit_code == 2 and "is a file, not a folder" in result.output


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RANK": "zero", "WORLD_SIZE": "2"}, "RANK='zero' is not an integer"),
        ({"RANK": "0", "WORLD_SIZE": "two"}, "WORLD_SIZE='two' is not an integer"),
        ({"RANK": "3", "WORLD_SIZE": "2"}, "rank 3 is not below the world size 2"),
        ({"SLURM_NTASKS": "x", "SLURM_PROCID": "0"}, "SLURM_NTASKS='x' is not an integer"),
    ],
)
def test_malformed_launcher_variables_give_one_line(tmp_path, monkeypatch, env, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "runs"
    result = runner.invoke(app, ["run", "dimensionality", "--quick", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert message in result.output and _nothing_made(out)


def test_report_of_a_run_with_damaged_files(tmp_path):
    result = invoke("run", "dimensionality", "--quick", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    (run_dir,) = (tmp_path / "dimensionality").iterdir()
    arrays = run_dir / "arrays.npz"
    data = arrays.read_bytes()
    arrays.write_bytes(data[: len(data) // 2])
    result = runner.invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "arrays.npz is damaged" in text and "--config" in text and "Traceback" not in text
    arrays.write_bytes(data)
    (run_dir / "metrics.json").write_text("{not json")
    result = runner.invoke(app, ["report", str(run_dir)])
    assert result.exit_code == 2 and "metrics.json is damaged" in result.output


def test_tables_are_whole_when_the_output_is_not_a_terminal():
    result = invoke("list")
    for line in result.output.splitlines():
        assert "…" not in line, line
    assert "1,909 s measured" in result.output  # a full-mode runtime, uncut


def test_a_requeued_slurm_job_resumes_its_run_and_another_config_is_refused(tmp_path, monkeypatch):
    """srun with 2 tasks, job 4242: rank 0's run directory is slurm-4242.0. A requeued job keeps
    its id and resumes there; the same id with another config is refused in one line."""
    for key in ("RANK", "WORLD_SIZE", "FLOWLEARN_RUN_ID"):
        monkeypatch.delenv(key, raising=False)
    for key, value in {"SLURM_JOB_ID": "4242", "SLURM_STEP_ID": "0", "SLURM_NTASKS": "2",
                       "SLURM_PROCID": "0"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    out = tmp_path / "runs"
    args = ["run", "dimensionality", "--quick", "--out", str(out)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    run_dir = out / "dimensionality" / "slurm-4242.0"
    before = json.loads((run_dir / "metrics.json").read_text())
    (run_dir / "metrics.json").unlink()  # as if the job was killed before the end
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert [p.name for p in (out / "dimensionality").iterdir()] == ["slurm-4242.0"]
    assert json.loads((run_dir / "metrics.json").read_text())["metrics"] == before["metrics"]
    other = runner.invoke(app, [*args, "--seed", "7"])
    assert other.exit_code == 2, other.output
    assert "exists from an earlier launch with another config" in " ".join(other.output.split())


def test_quick_with_a_config_file_is_refused(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("experiment: dimensionality\nquick: false\n", encoding="utf-8")
    result = runner.invoke(
        app, ["run", "dimensionality", "--quick", "--config", str(config), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--quick cannot be combined with --config" in " ".join(result.output.split())


def test_tour_exits_1_when_an_experiment_fails_and_runs_the_others(tmp_path, monkeypatch):
    import dataclasses

    from flowlearn import experiments

    def broken(config, run_dir):
        raise RuntimeError("a bug in an experiment")

    registry = dict(experiments.registry())
    registry["dimensionality"] = dataclasses.replace(registry["dimensionality"], run=broken)
    monkeypatch.setattr(experiments, "registry", lambda: registry)
    out = tmp_path / "runs"
    result = runner.invoke(
        app, ["tour", "--quick", "--only", "dimensionality", "--only", "filters", "--out", str(out)]
    )
    assert result.exit_code == 1, result.output
    assert "these experiments failed: dimensionality" in " ".join(result.output.split())
    assert any((out / "filters").iterdir()), "the others still ran"
    assert (out / "tour").is_dir()
