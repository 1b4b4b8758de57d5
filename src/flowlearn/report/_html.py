"""Self-contained HTML reports: every figure is embedded as a PNG data URI, nothing is fetched."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import yaml
from jinja2 import Environment, PackageLoader, select_autoescape

from flowlearn import __version__
from flowlearn.experiments import Claim, RunRecord, load_run, registry
from flowlearn.report.figures import drawer

REPORT_FILE = "report.html"
FIGURES_DIR = "figures"
INDEX_FILE = "index.json"
DPI = 110

_env = Environment(
    loader=PackageLoader("flowlearn.report", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    keep_trailing_newline=True,
)


@dataclass
class EmbeddedFigure:
    name: str
    caption: str
    data: str  # base64 PNG (or GIF: ``mime``)
    mime: str = "image/png"


MIMES = {".png": "image/png", ".gif": "image/gif"}


def _gif(frames, fps: int) -> bytes:
    """An animated GIF of ``(T, H, W, 3)`` uint8 frames, looping."""
    from PIL import Image

    images = [Image.fromarray(f) for f in frames]
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:],
                   duration=round(1000 / fps), loop=0)  # fmt: skip
    return buf.getvalue()


def draw_figures(run: RunRecord) -> list[EmbeddedFigure]:
    """Draw the run's figures, save them as ``figures/<name>.png`` and return them encoded."""
    fig_dir = run.path / FIGURES_DIR
    fig_dir.mkdir(exist_ok=True)
    out = []
    for fig in drawer(run.experiment)(run):
        if fig.frames is not None:
            plt.close(fig.figure)
            data, suffix = _gif(fig.frames, fig.fps), ".gif"
        else:
            buf = io.BytesIO()
            fig.figure.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
            plt.close(fig.figure)
            data, suffix = buf.getvalue(), ".png"
        (fig_dir / f"{fig.name}{suffix}").write_bytes(data)
        out.append(EmbeddedFigure(fig.name, fig.caption, base64.b64encode(data).decode("ascii"),
                                  MIMES[suffix]))  # fmt: skip
    index = [{"name": f.name, "caption": f.caption, "mime": f.mime} for f in out]
    (fig_dir / INDEX_FILE).write_text(json.dumps(index, indent=1), encoding="utf-8")
    return out


def _flatten(metrics: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(_flatten(value, name + "."))
        elif isinstance(value, list):
            short = all(not isinstance(v, list | dict) for v in value) and len(value) <= 12
            rows.append(
                (name, ", ".join(_fmt(v) for v in value) if short else f"[{len(value)} values]")
            )
        else:
            rows.append((name, _fmt(value)))
    return rows


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _title(experiment: str) -> tuple[str, str]:
    exp = registry().get(experiment)
    return (exp.title, exp.claim) if exp else (experiment, "")


def render_run(run_dir: Path) -> Path:
    """(Re-)draw the figures of a finished run and write its ``report.html``; return the path."""
    run = load_run(run_dir)
    figures = draw_figures(run)
    title, claim = _title(run.experiment)
    html = _env.get_template("report.html.j2").render(
        run=run,
        title=title,
        claim=claim,
        version=__version__,
        figures=figures,
        metrics=_flatten(run.metrics),
        n_ok=sum(c.reproduced for c in run.claims),
        config_yaml=yaml.safe_dump(run.config, sort_keys=False),
    )
    path = run.path / REPORT_FILE
    path.write_text(html, encoding="utf-8")
    return path


@dataclass
class TourSection:
    name: str
    title: str
    claim: str
    run_dir: Path
    wall_time_s: float
    claims: list[Claim]
    figures: list[EmbeddedFigure]

    @property
    def n_ok(self) -> int:
        return sum(c.reproduced for c in self.claims)


def render_tour(run_dirs: list[Path], out_file: Path, quick: bool) -> Path:
    """One page, ordered like the talk, with each experiment's claims, marks and figures."""
    sections = []
    for run_dir in run_dirs:
        run = load_run(run_dir)
        title, claim = _title(run.experiment)
        figures = _saved_figures(run) or draw_figures(run)
        sections.append(
            TourSection(
                run.experiment, title, claim, run.path, run.wall_time_s, run.claims, figures
            )
        )
    order = {name: exp.order for name, exp in registry().items()}
    sections.sort(key=lambda s: order.get(s.name, 10**6))
    n_claims = sum(len(s.claims) for s in sections)
    html = _env.get_template("tour.html.j2").render(
        sections=sections,
        version=__version__,
        quick=quick,
        n_ok=sum(s.n_ok for s in sections),
        n_claims=n_claims,
        total_s=sum(s.wall_time_s for s in sections),
    )
    out_file.write_text(html, encoding="utf-8")
    return out_file


def _saved_figures(run: RunRecord) -> list[EmbeddedFigure]:
    """The figures a previous ``render_run`` saved, read back through ``figures/index.json``."""
    index = run.path / FIGURES_DIR / INDEX_FILE
    if not index.is_file():
        return []
    entries = json.loads(index.read_text(encoding="utf-8"))
    out = []
    for e in entries:
        mime = e.get("mime", "image/png")
        suffix = {v: k for k, v in MIMES.items()}.get(mime, ".png")
        path = run.path / FIGURES_DIR / f"{e['name']}{suffix}"
        if not path.is_file():
            return []  # incomplete: draw again rather than show a partial page
        data = base64.b64encode(path.read_bytes()).decode()
        out.append(EmbeddedFigure(e["name"], e["caption"], data, mime))
    return out
