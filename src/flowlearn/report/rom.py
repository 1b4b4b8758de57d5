"""The figure of ``flowlearn rom fit``: the POD energy spectrum and the DMD spectrum."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from flowlearn.safety import MARK, write_replacing


def spectrum_png(ds, path: str | Path, kind: str) -> Path:
    """Left: each POD mode's energy fraction and the cumulative energy, the kept modes shaded;
    right: the DMD modes' amplitude against their frequency, coloured by growth rate."""
    panels = [p for p in ("pod_energy", "dmd_frequency") if p in ds]
    fig = Figure(figsize=(5.5 * max(len(panels), 1), 4), layout="constrained")
    axes = fig.subplots(1, max(len(panels), 1), squeeze=False)[0]
    for ax, panel in zip(axes, panels, strict=False):
        if panel == "pod_energy":
            energy = np.asarray(ds["pod_energy"].values)
            rank = np.arange(1, len(energy) + 1)
            kept = int(ds.attrs.get("pod_modes", 0))
            ax.bar(rank, energy, color=["C0" if r <= kept else "0.7" for r in rank])
            ax.set_yscale("log")
            positive = energy[energy > 0]
            ax.set_ylim(bottom=max(float(positive.min()) if positive.size else 1e-8, 1e-8) / 2)
            twin = ax.twinx()
            twin.plot(rank, np.cumsum(energy), color="C3", marker=".")
            twin.set_ylim(0, 1.02)
            twin.set_ylabel("cumulative energy", color="C3")
            ax.set_xlabel("POD mode")
            ax.set_ylabel("energy fraction")
            ax.set_title(
                f"POD: {kept} modes keep {ds.attrs.get('pod_energy_kept', float('nan')):.2%}",
                fontsize=9,
            )
        else:
            freq = np.asarray(ds["dmd_frequency"].values)
            amp = np.asarray(ds["dmd_amplitude"].values)
            growth = np.asarray(ds["dmd_growth_rate"].values)
            sc = ax.scatter(freq, amp, c=growth, cmap="coolwarm", s=30)
            fig.colorbar(sc, ax=ax, label="growth rate")
            ax.set_yscale("log")
            ax.set_xlabel("frequency (1 / time unit of the file)")
            ax.set_ylabel("|amplitude|")
            dominant = ds.attrs.get("dmd_dominant_frequency")
            ax.set_title(
                "DMD" + (f": dominant frequency {dominant:.4g}" if dominant else ""), fontsize=9
            )
        ax.grid(True, alpha=0.3)
    path = Path(path)
    return write_replacing(
        path, lambda tmp: fig.savefig(tmp, dpi=110, format="png", metadata={MARK: kind})
    )
