"""POD and DMD of a snapshot file, as ``flowlearn rom fit`` writes them: modes, spectra and
reconstructions in one netCDF file, the modes for ParaView.

:func:`decompose` fits :class:`~flowlearn.baselines.modes.POD` (modes kept by an energy
threshold, or a number) and :class:`~flowlearn.baselines.modes.DMD` (as many modes as POD keeps)
to :class:`~flowlearn.data.snapshots.Snapshots` and returns an ``xarray.Dataset``:

- ``pod_energy(pod_rank)``: each POD mode's fraction of the fluctuation energy (all of them),
  ``pod_error(pod_rank)``: the relative reconstruction error of the fluctuations with the first
  k modes (``sqrt(1 - cumulative energy)``), ``pod_<var>(mode, *space)`` the kept modes,
  ``pod_amplitude(time, mode)``, ``mean_<var>(*space)``;
- (DMD with one mode more than POD keeps, the mean's) ``dmd_frequency``, ``dmd_growth_rate``,
  ``dmd_amplitude`` (modulus), ``dmd_eig_real`` /
  ``dmd_eig_imag`` ``(dmd_mode)``, ``dmd_<var>_real`` / ``_imag(dmd_mode, *space)``, and
  ``dmd_error``: the relative error of its reconstruction of the snapshots;
- ``reconstruction_<var>(time, *space)``: the snapshots rebuilt from the kept POD modes.

:func:`write_modes_vtk` writes one ``.vti`` per POD mode (and per DMD mode, real part).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from flowlearn.baselines.modes import DMD, POD

if TYPE_CHECKING:
    from flowlearn.data.snapshots import Snapshots

METHODS = ("pod", "dmd", "both")
#: The kind of output ``rom fit`` writes (the mark of :mod:`flowlearn.safety.outputs`).
ROM_KIND = "modal decomposition"


def decompose(
    snaps: Snapshots, *, method: str = "both", n_modes: int | None = None, energy: float = 0.99
):
    """POD and/or DMD of ``snaps``: see the module's docstring. ``ValueError`` for a method
    it does not know, more modes than snapshots, uneven time steps (DMD)."""
    import xarray as xr

    if method not in METHODS:
        raise ValueError(f"method {method!r}: choose {', '.join(METHODS)}")
    x = snaps.values
    n = len(x)
    space = tuple(snaps.dims)
    coords: dict[str, np.ndarray] = {"time": snaps.time, **snaps.coords}
    data: dict[str, tuple] = {}
    attrs: dict[str, object] = {"variables": ", ".join(snaps.names), "snapshots": n}
    pod = POD(n_modes=n_modes, energy=energy).fit(x)
    k = pod.n_modes_
    attrs.update(pod_modes=k, pod_energy_kept=float(pod.energy_[:k].sum()), energy_threshold=energy)
    if method in ("pod", "both"):
        amplitudes = pod.transform(x)
        rebuilt = pod.inverse_transform(amplitudes)
        data["pod_energy"] = ("pod_rank", pod.energy_)
        cumulative = np.clip(1.0 - np.cumsum(pod.energy_), 0.0, None)
        data["pod_error"] = ("pod_rank", np.sqrt(cumulative))
        data["pod_amplitude"] = (("time", "mode"), amplitudes)
        for c, name in enumerate(snaps.names):
            data[f"pod_{name}"] = (("mode", *space), pod.modes_[:, c])
            data[f"mean_{name}"] = (space, pod.mean_[c])
            data[f"reconstruction_{name}"] = (("time", *space), rebuilt[:, c].astype(np.float32))
        fluct = x - pod.mean_
        attrs["pod_reconstruction_error"] = float(
            np.linalg.norm(rebuilt - x) / max(np.linalg.norm(fluct), 1e-300)
        )
    if method in ("dmd", "both"):
        # one mode more than POD keeps: DMD spends one on the mean (zero frequency)
        dmd = DMD(n_modes=min(k + 1, n - 1), dt=1.0).fit(x, snaps.time)
        order = np.argsort(-np.abs(dmd.amplitudes_))
        data["dmd_frequency"] = ("dmd_mode", dmd.frequencies_[order])
        data["dmd_growth_rate"] = ("dmd_mode", dmd.growth_rates_[order])
        data["dmd_amplitude"] = ("dmd_mode", np.abs(dmd.amplitudes_[order]))
        data["dmd_eig_real"] = ("dmd_mode", dmd.eigs_[order].real)
        data["dmd_eig_imag"] = ("dmd_mode", dmd.eigs_[order].imag)
        for c, name in enumerate(snaps.names):
            modes = dmd.modes_[order][:, c]
            data[f"dmd_{name}_real"] = (("dmd_mode", *space), modes.real)
            data[f"dmd_{name}_imag"] = (("dmd_mode", *space), modes.imag)
        rebuilt = dmd.predict(snaps.time)
        attrs["dmd_reconstruction_error"] = float(
            np.linalg.norm(rebuilt - x) / max(np.linalg.norm(x), 1e-300)
        )
        oscillating = np.abs(dmd.frequencies_) > 0
        if oscillating.any():
            strongest = np.argmax(np.where(oscillating, np.abs(dmd.amplitudes_), -1.0))
            attrs["dmd_dominant_frequency"] = float(abs(dmd.frequencies_[strongest]))
        attrs["dmd_time_step"] = float(dmd.dt)
    if snaps.mask is not None:
        data["mask"] = (space, snaps.mask.astype(np.uint8))
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    return ds


def write_modes_vtk(ds, folder: str | os.PathLike[str], names: list[str]) -> list[Path]:
    """One ``.vti`` per kept POD mode (``pod_mode_00.vti``, ...) and per DMD mode (its real
    part, ``dmd_mode_00.vti``, ...) with each variable of ``names`` as a field (``u`` and
    ``v`` as a velocity vector), into ``folder`` (created; files there of the same kind are
    replaced, others never). Lengths in the file's coordinates when it has ``x``."""
    import xarray as xr

    from flowlearn.physics.lbm.output import write_vti
    from flowlearn.safety import MARK, check_folder, check_target, write_replacing

    folder = check_folder(folder, "modes folder")
    written = []
    coords = {d: ds[d].values for d in ("y", "x") if d in ds.coords}
    jobs = []
    if "pod_rank" in ds.dims:
        jobs += [("pod", "pod_{name}", "mode", ds.sizes.get("mode", 0))]
    if "dmd_mode" in ds.dims:
        jobs += [("dmd", "dmd_{name}_real", "dmd_mode", ds.sizes["dmd_mode"])]
    for prefix, pattern, dim, count in jobs:
        for m in range(count):
            fields = {
                name: (("y", "x"), np.asarray(ds[pattern.format(name=name)].isel({dim: m})))
                for name in names
            }
            mode = xr.Dataset(fields, coords=coords, attrs={MARK: ROM_KIND})
            if "x" not in coords:
                mode = mode.assign_coords(
                    x=np.arange(mode.sizes["x"]) + 0.5, y=np.arange(mode.sizes["y"]) + 0.5
                )
            path = Path(folder) / f"{prefix}_mode_{m:02d}.vti"
            check_target(path, what="mode file", kind=ROM_KIND, suffixes=(".vti",))
            written.append(write_replacing(path, lambda tmp, d=mode: write_vti(d, tmp)))
    return written


__all__ = ["METHODS", "ROM_KIND", "decompose", "write_modes_vtk"]
