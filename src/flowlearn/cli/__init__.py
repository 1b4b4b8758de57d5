"""The ``flowlearn`` command line (Typer + Rich)."""

from flowlearn.cli._app import app, main

__all__ = ["app", "main"]
