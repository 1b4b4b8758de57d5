"""``flowlearn chem integrate RUN`` (the trained network as the integrator of one ignition, against
Cantera), ``flowlearn chem export RUN --onnx FILE`` (the network and its transforms for a CFD
code) and ``flowlearn bench chemistry RUN`` (the cost-accuracy comparison again, on this
machine)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from flowlearn.cli._console import command_group, console, warn
from flowlearn.cli._console import fail as _fail

chem_app = command_group(
    "chem",
    "Chemistry networks trained by `flowlearn run chemistry`: integrate, export.",
    "Example: flowlearn chem integrate runs/chemistry/20261130-120000 --T0 1100 --phi 1",
)

INTEGRATE_EPILOG = (
    "Example: flowlearn chem integrate runs/chemistry/20261130-120000 --T0 1100 --phi 1 "
    "--p 1atm --out ignition.png"
)
EXPORT_EPILOG = "Example: flowlearn chem export runs/chemistry/20261130-120000 --onnx chem.onnx"
BENCH_EPILOG = "Example: flowlearn bench chemistry runs/chemistry/20261130-120000 --json b.json"

#: Output kinds (see :mod:`flowlearn.safety.outputs`).
FIGURE_KIND = "chemistry ignition figure"
ONNX_KIND = "chemistry onnx"
BENCH_KIND = "chemistry benchmark"


@chem_app.callback()
def _chem_group() -> None:
    """Chemistry networks trained by `flowlearn run chemistry`: integrate, export."""


def parse_pressure(text: str) -> float:
    """``"1atm"``, ``"2.5 atm"``, ``"101325"`` or ``"101325Pa"``, ``"1bar"`` -> Pa."""
    s = text.strip().lower().replace(" ", "")
    for unit, factor in (("atm", 101_325.0), ("bar", 1e5), ("kpa", 1e3), ("pa", 1.0)):
        if s.endswith(unit):
            s, scale = s[: -len(unit)], factor
            break
    else:
        scale = 1.0
    try:
        value = float(s) * scale
    except ValueError:
        raise ValueError(f"pressure {text!r}: write e.g. 1atm, 1.5bar or 101325Pa") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"pressure {text!r} must be positive")
    return value


def _load(run: Path):
    from flowlearn.experiments.cfd.chemistry import TrainedChemistry

    if not (run / "metrics.json").is_file():
        raise _fail(
            f"{run} is not a finished run (no metrics.json): give a run directory of "
            "`flowlearn run chemistry`"
        )
    try:
        return TrainedChemistry(run)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        raise _fail(str(exc)) from None


def _check(path: Path | None, what: str, kind: str, suffixes: tuple[str, ...], overwrite: bool):
    from flowlearn.safety import OutputError, check_target

    if path is None:
        return
    try:
        check_target(path, what=what, kind=kind, suffixes=suffixes, overwrite=overwrite)
    except OutputError as exc:
        raise _fail(str(exc)) from None


@chem_app.command("integrate", epilog=INTEGRATE_EPILOG)
def chem_integrate(
    run: Annotated[Path, typer.Argument(help="a `flowlearn run chemistry` run directory")],
    T0: Annotated[float, typer.Option("--T0", help="initial temperature (K)")] = 1100.0,
    phi: Annotated[float, typer.Option(help="equivalence ratio")] = 1.0,
    p: Annotated[str, typer.Option("--p", help="pressure: 1atm, 1.5bar, 101325Pa")] = "1atm",
    hybrid: Annotated[
        bool, typer.Option("--hybrid", help="Cantera where the ensemble's spread is too large")
    ] = False,
    out: Annotated[Path | None, typer.Option(help="figure of both trajectories (.png)")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="replace --out")] = False,
) -> None:
    """Roll the network forward as the integrator of one constant-pressure ignition from the
    unburnt mixture and compare it with Cantera's: ignition delay, final temperature, cost."""
    from flowlearn.physics.chemistry import ChemistryError, check_conditions

    try:
        pressure = parse_pressure(p)
        check_conditions(T0, pressure, phi)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    _check(out, "--out", FIGURE_KIND, (".png",), overwrite)
    trained = _load(run)
    for text in trained.outside(T0, pressure / 101_325.0, phi):
        warn(f"{text}: the network extrapolates")
    try:
        with console.status("integrating"):
            r = trained.integrate(T0, pressure, phi, hybrid=hybrid)
    except ChemistryError as exc:
        raise _fail(str(exc)) from None
    table = Table(title=f"{trained.config.mechanism}: T0 {T0:g} K, p {p}, phi {phi:g}")
    for col in ("", "ignition delay", "final T", "seconds"):
        table.add_column(col, justify="right")
    name = "hybrid" if hybrid else "network"
    table.add_row(name, f"{1e3 * r['tau']:.4g} ms", f"{r['T_final']:.1f} K", f"{r['seconds']:.3g}")
    table.add_row(
        "Cantera",
        f"{1e3 * r['tau_ref']:.4g} ms",
        f"{r['T_final_ref']:.1f} K",
        f"{r['cantera_seconds']:.3g}",
    )
    console.print(table)
    err = r["tau_error"]
    console.print(
        f"ignition-delay error {100 * err:.2f} %" if math.isfinite(err) else "no ignition"
    )
    if hybrid:
        console.print(f"states advanced by Cantera: {100 * r['fallback_share']:.1f} %")
    if out is not None:
        from flowlearn.report.chemistry import ignition_png

        title = f"{trained.config.mechanism}, T0 {T0:g} K, p {p}, phi {phi:g}"
        ignition_png(r, out, title, name)
        console.print(f"wrote {out}")


@chem_app.command("export", epilog=EXPORT_EPILOG)
def chem_export(
    run: Annotated[Path, typer.Argument(help="a `flowlearn run chemistry` run directory")],
    onnx: Annotated[Path, typer.Option("--onnx", help="the .onnx file to write")],
    member: Annotated[int, typer.Option(help="which network of the ensemble", min=0)] = 0,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="replace --onnx")] = False,
) -> None:
    """Write one network with its transforms (Box-Cox, normalisation, clipping, element and
    enthalpy conservation) as ONNX: input ``state`` (batch, 2 + S) = [T K, p Pa, Y...],
    output (batch, 1 + S) = [T, Y...] one step later; checked against PyTorch with
    onnxruntime."""
    import torch

    from flowlearn.models.chemistry import StepModule
    from flowlearn.models.onnx import check_onnx, export_onnx
    from flowlearn.physics import chemistry as chem

    _check(onnx, "--onnx", ONNX_KIND, (".onnx",), overwrite)
    trained = _load(run)
    members = list(trained.ensemble.members)
    if member >= len(members):
        raise _fail(
            f"--member {member}: the ensemble has {len(members)} networks (0-{len(members) - 1})"
        )
    c = trained.config
    model = StepModule(members[member], conserve=c.conserve).eval()
    lo = trained.ranges["T0"][0]
    Y0 = chem.initial_state(c.mechanism, lo, 101_325.0, 1.0)
    example = torch.tensor([[lo, 101_325.0, *Y0]] * 4, dtype=torch.float64)
    meta = {
        "mechanism": c.mechanism,
        "species": ",".join(chem.species(c.mechanism)),
        "dt_s": f"{c.dt:g}",
        "input": "T K, p Pa, mass fractions",
        "output": "T K, mass fractions one step later",
    }
    from flowlearn.safety import write_replacing

    try:
        write_replacing(
            onnx,
            lambda tmp: export_onnx(
                model, example, tmp, input_name="state", output_name="next_state", metadata=meta
            ),
        )
        diff = check_onnx(onnx, model, example, atol=1e-6)
    except (ImportError, ValueError) as exc:
        raise _fail(str(exc)) from None
    console.print(
        f"wrote {onnx} ({c.mechanism}, dt {c.dt:g} s); onnxruntime matches PyTorch to {diff:.2g}"
    )


def bench_chemistry(
    run: Annotated[Path, typer.Argument(help="a `flowlearn run chemistry` run directory")],
    states: Annotated[int, typer.Option(help="states timed per Cantera setting", min=10)] = 300,
    conditions: Annotated[int, typer.Option(help="ignitions of the accuracy sweep", min=1)] = 3,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the results here")] = None,
) -> None:
    """Cantera at a sweep of tolerances (its fastest reactor model) against the run's networks at
    batch 1 to 16,384, one core each, at equal ignition-delay error, per state and per ignition,
    beside the naive ratio, with the break-even (data and training counted)."""
    _check(json_out, "--json", BENCH_KIND, (".json",), False)
    trained = _load(run)
    from flowlearn.experiments.cfd.chemistry import bench

    with console.status("benchmarking (Cantera's sweep, then the networks)") as status:
        result = bench(run, trained, states, conditions, progress=lambda m: status.update(m))
    sweep = result["cantera"]
    console.print(
        f"Cantera's fastest model at rtol 1e-6: {sweep['model']} "
        + ", ".join(f"{k} {1e6 * v['median_s']:.0f} µs" for k, v in sweep["models"].items())
    )
    table = Table(title="Cantera per state (one step) and per ignition, one core")
    for col in (
        "setting",
        "mean µs",
        "p50 µs",
        "p90 µs",
        "τ error stepped",
        "ms / ignition",
        "τ error adaptive",
    ):
        table.add_column(col, justify="right")
    for r in sweep["rows"]:
        table.add_row(
            r["label"],
            f"{1e6 * r['per_state_mean_s']:.1f}",
            f"{1e6 * r['per_state_p50_s']:.1f}",
            f"{1e6 * r['per_state_p90_s']:.1f}",
            _pct(r["stepped_tau_error"]["mean"]),
            f"{1e3 * r['adaptive_seconds_per_ignition']:.2f}",
            _pct(r["adaptive_tau_error"]["mean"]),
        )
    console.print(table)
    for name in ("ensemble", "one_network"):
        n = result[name]
        t = Table(title=f"{name.replace('_', ' ')}: τ error {_pct(n['tau_error_mean'])}")
        for col in ("batch", "µs / state", "naive", "equal accuracy", "against"):
            t.add_column(col, justify="right")
        for b, eq in n["per_state"].items():
            t.add_row(
                b,
                f"{1e6 * eq['network_seconds']:.2f}",
                f"x{eq['naive_speedup']:.3g}",
                _ratio(eq["speedup"]),
                eq["setting"] or "none as inaccurate",
            )
        tr = n["per_trajectory"]
        t.add_row(
            "ignition",
            f"{1e3 * tr['network_seconds']:.3g} ms",
            f"x{tr['naive_speedup']:.3g}",
            _ratio(tr["speedup"]),
            tr["setting"] or "none as inaccurate",
        )
        console.print(t)
        be = n["break_even_states"]
        console.print(
            f"break-even ({name}, batch 1,024): "
            + (f"{be:,.0f} states" if math.isfinite(be) else "never (no saving)")
        )
    if json_out is not None:
        from flowlearn.safety import MARK, write_replacing

        body = json.dumps({MARK: BENCH_KIND, **result}, indent=2, default=str)
        write_replacing(json_out, lambda tmp: tmp.write_text(body, encoding="utf-8"))
        console.print(f"wrote {json_out}")


def _ratio(x) -> str:
    return "none" if x is None else f"x{x:.3g}"


def _pct(x) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "n/a"
    return f"{100 * v:.2f} %" if math.isfinite(v) else "no ignition"
