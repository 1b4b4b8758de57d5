"""``flowlearn playground``: the local web playground (serve it), and ``flowlearn playground
eval MODEL``: a network exported from it, evaluated at points."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

import typer

from flowlearn.cli._console import command_group, console, warn
from flowlearn.cli._console import fail as _fail

playground_app = command_group(
    "playground",
    "The local neural-network playground (playground.tensorflow.org, trained by flowlearn).",
    "Example: flowlearn playground --open; flowlearn playground eval network.safetensors --x1 1 "
    "--x2 -2",
    bare_help=False,
)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@playground_app.callback(invoke_without_command=True)
def playground(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="port to listen on", min=1, max=65535)] = 8765,
    host: Annotated[str, typer.Option(help="address to bind (127.0.0.1: this machine only)")] = (
        "127.0.0.1"
    ),
    open_browser: Annotated[bool, typer.Option("--open", help="open it in the browser")] = False,
) -> None:
    """Serve the playground: pick data, features, layers, neurons, activation, learning rate
    and regularisation, and watch a small network learn, neuron by neuron. Offline; the whole
    state is in the page's URL; each tab trains its own network with one torch thread."""
    if ctx.invoked_subcommand is not None:
        return
    if not _loopback(host):
        warn(
            f"binding {host}: other machines on the network can reach the playground and make "
            "this one train networks (it checks the Host and Origin of every request)"
        )
    from flowlearn.playground import serve

    shown = host if ":" not in host else f"[{host}]"
    console.print(f"flowlearn playground: [bold]http://{shown}:{port}/[/] (Ctrl-C stops it)")
    try:
        serve(host, port, open_browser)
    except OSError as exc:
        raise _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@playground_app.command("eval")
def playground_eval(
    model: Annotated[Path, typer.Argument(help="a network exported from the playground")],
    x1: Annotated[list[float], typer.Option("--x1", help="x1 of a point (repeat for more)")],
    x2: Annotated[list[float], typer.Option("--x2", help="x2 of a point (repeat for more)")],
) -> None:
    """Evaluate an exported playground network (``playground-network.safetensors``) at points
    (x1, x2) in the playground's square [-6, 6]^2: the class (+1 blue, -1 orange) and output
    for classification, the value for regression."""
    import numpy as np

    from flowlearn.playground import load_network, predict

    if len(x1) != len(x2):
        raise _fail(f"give as many --x1 as --x2 ({len(x1)} against {len(x2)})")
    if not model.is_file():
        raise _fail(f"{model}: no such file")
    try:
        net, settings = load_network(str(model))
    except ValueError as exc:
        raise _fail(f"{model}: {exc}") from None
    out = predict(net, settings, np.column_stack([x1, x2]))
    console.print(
        f"{settings.problem} on {settings.dataset}, features {', '.join(settings.features)}, "
        f"hidden {settings.hidden or 'none'}, {settings.activation}"
    )
    for a, b, v in zip(x1, x2, out, strict=True):
        if settings.problem == "classification":
            console.print(f"({a:g}, {b:g}): class {'+1' if v >= 0 else '-1'} (output {v:.4f})")
        else:
            console.print(f"({a:g}, {b:g}): {v:.4f}")
