"""The figure of ``flowlearn chem integrate``: one ignition by the network against Cantera's."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from flowlearn.safety import write_replacing


def ignition_png(result: dict, path: str | Path, title: str, name: str) -> Path:
    """Temperature against time of the network's rollout (``result["t"]``, ``["T"]``, labelled
    ``name``) and of Cantera's strict integration (``["ref_t"]``, ``["ref_T"]``), as a PNG."""
    fig = Figure(figsize=(6.5, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(result["t"] * 1e3, result["T"], label=name)
    ax.plot(result["ref_t"] * 1e3, result["ref_T"], "k:", label="Cantera (strict)")
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("temperature (K)")
    ax.set_title(title, fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend()
    path = Path(path)
    write_replacing(path, lambda tmp: fig.savefig(tmp, format="png", dpi=120))
    return path
