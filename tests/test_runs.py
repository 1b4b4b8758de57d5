"""Run directories, configs and overrides: the machinery every experiment relies on."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import Field

from flowlearn.experiments import (
    Claim,
    ConfigError,
    Experiment,
    ExperimentConfig,
    Result,
    build_config,
    execute,
    load_run,
    new_run_dir,
)


class _Cfg(ExperimentConfig):
    order: int = Field(3, ge=0, le=20, description="polynomial order")
    noise: float = Field(0.1, ge=0.0, le=0.5)


def _run(config: _Cfg, run_dir):
    import numpy as np

    rng = np.random.default_rng(config.seed)
    x = rng.normal(size=5) * config.noise
    return Result(
        metrics={"mean": float(x.mean()), "order": config.order},
        claims=[Claim("order is small", "3", str(config.order), config.order == 3)],
        arrays={"x": x},
    )


TOY = Experiment(
    name="toy", title="Toy", claim="a toy", order=1, config=_Cfg, run=_run, quick={"order": 1}
)


def test_new_run_dir_never_reuses_a_directory(tmp_path):
    now = datetime(2026, 11, 26, 10, 0, 0)
    a = new_run_dir(tmp_path, "toy", now)
    (a / "keep.txt").write_text("precious")
    b = new_run_dir(tmp_path, "toy", now)
    c = new_run_dir(tmp_path, "toy", now)
    assert a.name == "20261126-100000"
    assert b.name == "20261126-100000-1" and c.name == "20261126-100000-2"
    assert (a / "keep.txt").read_text() == "precious"


def test_quick_overrides_and_set_values():
    cfg = build_config(TOY, quick=True, overrides=["noise=0.25"], seed=7)
    assert (cfg.order, cfg.noise, cfg.seed, cfg.quick) == (1, 0.25, 7, True)


def test_unknown_set_key_lists_valid_keys():
    with pytest.raises(ConfigError, match=r"unknown config key 'nois'.*noise.*order"):
        build_config(TOY, overrides=["nois=0.2"])


@pytest.mark.parametrize(
    ("override", "field", "limit"),
    [
        ("order=-1", "order", "greater than or equal to 0"),
        ("noise=0.7", "noise", "less than or equal to 0.5"),
    ],
)
def test_out_of_range_value_names_field_value_and_limit(override, field, limit):
    with pytest.raises(ConfigError) as err:
        build_config(TOY, overrides=[override])
    message = str(err.value)
    assert field in message and override.split("=")[1] in message and limit in message


def test_malformed_override():
    with pytest.raises(ConfigError, match="key=value"):
        build_config(TOY, overrides=["noise"])


def test_bad_device_lists_the_allowed_values():
    with pytest.raises(ConfigError, match=r"device.*'auto', 'cpu' or 'cuda'"):
        build_config(TOY, device="tpu")


def test_saved_config_reproduces_the_run(tmp_path):
    cfg = build_config(TOY, overrides=["noise=0.3"], seed=4)
    first = execute(TOY, cfg, tmp_path)
    again = build_config(TOY, config_file=first / "config.yaml")
    assert again == cfg
    second = execute(TOY, again, tmp_path)
    assert second != first
    assert load_run(first).metrics == load_run(second).metrics
    assert (load_run(first).arrays["x"] == load_run(second).arrays["x"]).all()


def test_config_file_for_another_experiment_is_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("experiment: capacity\nseed: 1\n")
    with pytest.raises(ConfigError, match="is for experiment 'capacity', not 'toy'"):
        build_config(TOY, config_file=path)


def test_config_file_with_unknown_key_is_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("experiment: toy\nordre: 2\n")
    with pytest.raises(ConfigError, match="unknown config key 'ordre'"):
        build_config(TOY, config_file=path)


def test_run_writes_config_metrics_arrays_and_log(tmp_path):
    run_dir = execute(TOY, build_config(TOY), tmp_path)
    for name in ("config.yaml", "metrics.json", "arrays.npz", "run.log"):
        assert (run_dir / name).is_file(), name
    run = load_run(run_dir)
    assert run.experiment == "toy" and run.claims[0].reproduced
    assert "run toy" in (run_dir / "run.log").read_text()


def test_load_run_of_an_unfinished_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"metrics\.json is missing"):
        load_run(tmp_path)


def test_a_failed_run_keeps_its_config_and_says_why_in_the_log(tmp_path):
    def broken(config, run_dir):
        raise RuntimeError("solver diverged at step 12")

    exp = Experiment(name="broken", title="B", claim="c", order=1, config=_Cfg, run=broken)
    with pytest.raises(RuntimeError):
        execute(exp, build_config(exp), tmp_path)
    (run_dir,) = (tmp_path / "broken").iterdir()
    assert (run_dir / "config.yaml").is_file()
    assert "solver diverged at step 12" in (run_dir / "run.log").read_text()


def test_launch_rank_and_shared_run_dir(tmp_path, monkeypatch):
    from flowlearn.experiments._runs import launch_rank, shared_run_dir

    for key in ("RANK", "WORLD_SIZE", "SLURM_NTASKS", "SLURM_PROCID", "SLURM_JOB_ID"):
        monkeypatch.delenv(key, raising=False)
    assert launch_rank() == (0, 1)
    monkeypatch.setenv("SLURM_NTASKS", "8")
    monkeypatch.setenv("SLURM_PROCID", "5")
    assert launch_rank() == (5, 8)
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert launch_rank() == (1, 2)  # torchrun's variables first
    monkeypatch.setenv("FLOWLEARN_RUN_ID", "job-7")
    with pytest.raises(TimeoutError, match="rank 1"):
        shared_run_dir(tmp_path, "capacity", rank=1, timeout_s=0.2)
    made = shared_run_dir(tmp_path, "capacity", rank=0)
    assert made == tmp_path / "capacity" / "job-7"
    (made / "config.yaml").write_text("experiment: capacity\n", encoding="utf-8")
    assert shared_run_dir(tmp_path, "capacity", rank=1) == made
    with pytest.raises(FileExistsError, match="FLOWLEARN_RUN_ID"):
        shared_run_dir(tmp_path, "capacity", rank=0)
