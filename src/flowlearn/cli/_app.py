"""``flowlearn list | run | report | tour``: every experiment of the talk from one command."""

from __future__ import annotations

import logging
import time
import traceback
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from flowlearn import __version__
from flowlearn.cli import _chem, _predict, _surrogate
from flowlearn.cli._bench import bench_app
from flowlearn.cli._chem import chem_app
from flowlearn.cli._closure import closure_app
from flowlearn.cli._console import command_group, console, err_console, fit_to_output
from flowlearn.cli._console import fail as _fail
from flowlearn.cli._dataset import dataset_app
from flowlearn.cli._lbm import simulate_app
from flowlearn.cli._playground import playground_app
from flowlearn.cli._rom import rom_app

app = command_group(
    "flowlearn",
    "Does deep learning solve your flow problem? Every experiment of the talk "
    "'Deep Learning: the solution to all my problems... right?', re-measured.",
    "Example: flowlearn tour --quick",
)

DEFAULT_OUT = Path("runs")


def _version_callback(value: bool) -> None:
    if value:
        console.print(f"flowlearn {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    fit_to_output()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # A run logs INFO into its run.log; the terminal shows warnings and the Rich output only.
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.WARNING)


def _experiments():
    # Imported lazily: the registry pulls in torch, which `flowlearn --help` should not wait for.
    from flowlearn import experiments

    return experiments


@app.command("list", epilog="Example: flowlearn list")
def list_experiments() -> None:
    """List every experiment: its name, the talk's claim it checks and how long it takes."""
    exps = _experiments()
    table = Table(title="flowlearn experiments, in the talk's order", show_lines=True)
    registry = exps.registry()
    # names are what users type: never truncate them, let the claim column wrap instead
    table.add_column("name", style="bold cyan", no_wrap=True, min_width=max(map(len, registry)))
    table.add_column("the talk's claim it checks")
    table.add_column("--quick", no_wrap=True)
    table.add_column("full", no_wrap=True)
    for exp in registry.values():
        table.add_row(exp.name, exp.claim, exp.runtime_quick, exp.runtime_full)
    console.print(table)


def _print_claims(run_dir: Path) -> None:
    run = _experiments().load_run(run_dir)
    table = Table(title=f"{run.experiment}: the talk vs this run", show_lines=True)
    table.add_column("the talk says")
    table.add_column("talk", justify="right")
    table.add_column("measured", justify="right")
    table.add_column("mark", no_wrap=True)
    for c in run.claims:
        mark = "[green]✔ reproduced[/]" if c.reproduced else "[dark_orange]✘ differs[/]"
        table.add_row(c.slide, c.talk, c.measured, mark)
    console.print(table)


class _Refused(Exception):
    """An experiment that cannot run, or that stopped on a clear refusal: one line to print."""


def _refusals() -> tuple[type[BaseException], ...]:
    """Errors that stop a run with a message a user can act on (not a bug's traceback)."""
    from flowlearn.data.sample_store import StoreError
    from flowlearn.safety import MemoryLimitError, OutputError
    from flowlearn.training import CheckpointError

    exps = _experiments()
    return (StoreError, MemoryLimitError, OutputError, CheckpointError, exps.LaunchError)


def _run_one(
    name: str,
    *,
    quick: bool,
    config_file: Path | None,
    overrides: list[str],
    seed: int | None,
    device: str | None,
    out: Path,
) -> Path:
    """Run one experiment and report it; :class:`_Refused` with the one-line reason when it
    cannot run or stops on a refusal (a refused run never gets a run directory)."""
    exps = _experiments()
    from flowlearn.report import render_run
    from flowlearn.safety import MemoryLimitError

    try:
        experiment = exps.get(name)
    except KeyError as exc:
        raise _Refused(str(exc.args[0])) from None
    try:
        config = exps.build_config(
            experiment,
            quick=quick,
            config_file=config_file,
            overrides=overrides,
            seed=seed,
            device=device,
        )
    except exps.ConfigError as exc:
        raise _Refused(f"bad config for {name}:\n{exc}") from None
    try:  # refuse a missing GPU, a bad launch or an unusable config before a run directory
        exps.resolve_device(config.device)
        exps.launch_rank()
        if experiment.check is not None:
            experiment.check(config)
    except MemoryLimitError as exc:
        raise _Refused(f"{name}: {exc.message()} (--set changes them)") from None
    except ValueError as exc:
        raise _Refused(f"bad config for {name}: {exc}") from None
    mode = "quick" if config.quick else "full"
    runtime = experiment.runtime_quick if config.quick else experiment.runtime_full
    if config_file is not None or overrides:  # the measured run time is the default config's
        when = f"{mode} mode with your settings; the default takes {runtime}"
    else:
        when = f"{mode} mode, expected {runtime}"
    console.print(f"[bold]{experiment.title}[/] ({when})")
    try:
        run_dir = exps.execute(experiment, config, out)
    except (FileExistsError, TimeoutError) as exc:  # a shared run directory of a launch
        raise _Refused(str(exc)) from None
    except _refusals() as exc:
        raise _Refused(f"{name} stopped: {exc} (its run directory keeps run.log)") from None
    if exps.launch_rank()[0] > 0:  # one report per launch: rank 0 writes it
        return run_dir
    report = render_run(run_dir)
    _print_claims(run_dir)
    console.print(f"run directory: [bold]{run_dir}[/]\nreport: {report}")
    return run_dir


def _check_out(out: Path) -> None:
    from flowlearn.safety import OutputError, check_folder

    try:
        check_folder(out, "--out", create=False)
    except OutputError as exc:
        raise _fail(str(exc)) from None


@app.command(
    "run",
    epilog="Example: flowlearn run capacity --quick --set noise=0.2 --seed 1",
)
def run(
    name: Annotated[str, typer.Argument(help="Experiment name (see `flowlearn list`).")],
    quick: Annotated[bool, typer.Option("--quick", help="About a minute on 2 CPU cores.")] = False,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a config value: key=value (nested: a.b=value)."),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed of the run.", min=0)] = None,
    device: Annotated[
        str | None, typer.Option("--device", help="cpu, cuda or auto (CUDA when available).")
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Root folder of run directories.")
    ] = DEFAULT_OUT,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="A run's config.yaml: reproduces that run.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Run one experiment; write runs/NAME/TIMESTAMP/ with config, metrics, figures and report."""
    _check_out(out)
    try:
        _run_one(
            name,
            quick=quick,
            config_file=config,
            overrides=set_ or [],
            seed=seed,
            device=device,
            out=out,
        )
    except _Refused as exc:
        raise _fail(str(exc)) from None


@app.command("report", epilog="Example: flowlearn report runs/capacity/20261126-101500")
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by `flowlearn run`.")],
) -> None:
    """Re-draw a run's figures and report.html from its saved metrics and arrays."""
    from flowlearn.report import render_run

    exps = _experiments()
    try:
        path = render_run(run_dir)
    except (FileNotFoundError, exps.RunDirError) as exc:
        raise _fail(str(exc)) from None
    except KeyError as exc:  # an array a figure needs: a run of an older version
        raise _fail(f"cannot draw the figures of {run_dir}: its arrays lack {exc}") from None
    _print_claims(run_dir)
    console.print(f"report: {path}")


@app.command("tour", epilog="Example: flowlearn tour --quick")
def tour(
    quick: Annotated[bool, typer.Option("--quick", help="Every experiment in quick mode.")] = False,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Seed of every run.")] = None,
    device: Annotated[str | None, typer.Option("--device", help="cpu, cuda or auto.")] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Root folder of run directories.")
    ] = DEFAULT_OUT,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Run only these experiments (repeatable).")
    ] = None,
) -> None:
    """Run every experiment in the talk's order; write one HTML page: claim, measurement, mark."""
    exps = _experiments()
    from flowlearn.report import render_tour

    _check_out(out)
    names = exps.names()
    if only:
        unknown = [n for n in only if n not in names]
        if unknown:
            raise _fail(
                f"unknown experiment(s) {', '.join(unknown)}; valid names: {', '.join(names)}"
            )
        names = [n for n in names if n in only]
    run_dirs: list[Path] = []
    failed: list[str] = []
    start = time.perf_counter()
    for i, name in enumerate(names, 1):
        console.rule(f"[{i}/{len(names)}] {name}")
        try:
            run_dirs.append(
                _run_one(
                    name,
                    quick=quick,
                    config_file=None,
                    overrides=[],
                    seed=seed,
                    device=device,
                    out=out,
                )
            )
        except typer.Exit:
            raise
        except _Refused as exc:  # one refused experiment must not cost the others' results
            failed.append(name)
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        except Exception:  # nor one broken experiment
            failed.append(name)
            err_console.print(traceback.format_exc())
    tour_dir = _experiments().new_run_dir(out, "tour", datetime.now())
    page = render_tour(run_dirs, tour_dir / "tour.html", quick=quick)
    console.rule()
    console.print(f"tour: {len(run_dirs)} experiments in {time.perf_counter() - start:.0f} s")
    console.print(f"page: [bold]{page}[/]")
    if failed:
        raise _fail(f"these experiments failed: {', '.join(failed)}", code=1)


# Every command group and command, in the order `flowlearn --help` lists them.
app.add_typer(simulate_app, name="simulate")
app.add_typer(rom_app, name="rom")
app.add_typer(chem_app, name="chem")
app.add_typer(closure_app, name="closure")
app.add_typer(playground_app, name="playground")
bench_app.command("chemistry", epilog=_chem.BENCH_EPILOG)(_chem.bench_chemistry)
bench_app.command("surrogate", epilog=_surrogate.BENCH_EPILOG)(_surrogate.bench_surrogate)
app.add_typer(bench_app, name="bench")
app.add_typer(dataset_app, name="dataset")
app.command("predict", epilog=_predict.PREDICT_EPILOG)(_predict.predict)
app.command("export", epilog=_surrogate.EXPORT_EPILOG)(_surrogate.export_model)


def main() -> None:
    app()
