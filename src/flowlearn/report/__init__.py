"""Figures (matplotlib) and self-contained HTML reports of runs and of the tour."""

from flowlearn.report._html import render_run, render_tour

__all__ = ["render_run", "render_tour"]
