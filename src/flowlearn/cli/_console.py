"""The consoles every command prints on, the one way a command fails (a red ``error:`` line on
stderr, the message shown as written, never read as Rich markup, and exit code 2), plain notes,
help text laid out for Typer, and the settings every command group shares."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
err_console = Console(stderr=True)

#: Width of the output when it is not a terminal (a log, a pipe, CI): Rich would cut tables to
#: 80 columns ("cylinde…"); ``COLUMNS`` still wins when it is set.
FILE_WIDTH = 200


def fit_to_output() -> None:
    """Print whole tables into logs and pipes: widen the consoles that do not write to a
    terminal (call once per command, when its streams are in place)."""
    for c in (console, err_console):
        if not c.is_terminal and not os.environ.get("COLUMNS"):
            c.width = FILE_WIDTH


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` as an error and return the ``typer.Exit`` to raise."""
    err_console.print(
        f"[bold red]error:[/] {escape(str(message))}", highlight=False, soft_wrap=True
    )
    return typer.Exit(code)


def warn(message: str) -> None:
    err_console.print(
        f"[yellow]warning:[/] {escape(str(message))}", highlight=False, soft_wrap=True
    )


def note(message: str) -> None:
    """Print ``message`` on stdout as written (no Rich markup, no highlighting)."""
    console.print(escape(message), highlight=False, soft_wrap=True)


def paragraphs(func):
    """Join the lines of each docstring paragraph: Typer's rich help keeps single newlines."""
    doc = inspect.cleandoc(func.__doc__ or "")
    func.__doc__ = "\n\n".join(" ".join(par.split()) for par in doc.split("\n\n"))
    return func


def command_group(name: str, help: str, epilog: str, bare_help: bool = True) -> typer.Typer:
    """A Typer app for ``flowlearn`` or one of its groups, with the settings all of them share:
    help when called bare (unless ``bare_help`` is False: a group that acts by itself), Rich
    help text, no shell-completion options, plain tracebacks."""
    return typer.Typer(
        name=name,
        help=help,
        no_args_is_help=bare_help,
        add_completion=False,
        rich_markup_mode="rich",
        pretty_exceptions_enable=False,
        epilog=epilog,
    )


@contextmanager
def lbm_progress(name: str, total: int) -> Iterator[Callable]:
    """A progress bar of a lattice Boltzmann run (steps done, last residual); yields the
    ``callback(solver, residual)`` its ``run`` calls at each check."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:>7.0f}/{task.total:.0f} steps"),
        TextColumn("residual {task.fields[residual]}"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task(name, total=total, residual="-")

        def update(solver, residual: float) -> None:
            bar.update(task, completed=solver.time, residual=f"{residual:.2e}")

        yield update
