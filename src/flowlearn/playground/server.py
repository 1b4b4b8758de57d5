"""The playground's web server: the page (HTML, CSS and JavaScript shipped in the package, no CDN)
and one WebSocket per tab, over which the page sends its settings and commands and the server
streams what training does (losses, heat maps, weights).

Security, for a server that runs PyTorch on the user's machine:

- it binds 127.0.0.1 unless told otherwise (:func:`serve` warns then);
- every request's ``Host`` header must name this server (``127.0.0.1:PORT``, ``localhost:PORT``,
  ``[::1]:PORT`` or the host it was started on), so a DNS-rebinding page cannot reach it under
  another name; the WebSocket's ``Origin`` must be this server's own page, so another site open in
  the browser cannot drive it;
- a message is at most :data:`MAX_MESSAGE` bytes of JSON whose every field is validated
  (:class:`~flowlearn.playground.session.Settings`); anything else closes that connection (code
  1008) and leaves the server and the other tabs running;
- each tab trains its own network; training stops when the tab closes; the process trains with
  one torch thread, so twenty tabs share the cores instead of oversubscribing them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import time
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import ValidationError

from flowlearn.playground.session import Session, Settings

MAX_MESSAGE = 16_384
#: Seconds of training between two updates sent to a tab (about 10 updates a second).
UPDATE_EVERY = 0.1
STATIC = ("app.js", "style.css")
COMMANDS = ("play", "pause", "step", "reset", "regenerate", "export")


def allowed_hosts(host: str, port: int) -> set[str]:
    names = {"127.0.0.1", "localhost", "[::1]", host if ":" not in host else f"[{host}]"}
    return {f"{name}:{port}" for name in names}


def _static(name: str) -> bytes:
    return resources.files("flowlearn.playground").joinpath("static", name).read_bytes()


def _finite(value: Any) -> Any:
    """NaN and infinities as None (the browser's JSON.parse refuses them)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


class Refused(ValueError):
    """A message the server will not act on; the connection is closed."""


def parse(text: str) -> dict[str, Any]:
    """One message from the page, validated: ``{"type": "settings", "settings": {...}}`` or
    ``{"type": COMMAND}``."""
    if len(text.encode("utf-8", "replace")) > MAX_MESSAGE:
        raise Refused(f"message over {MAX_MESSAGE} bytes")
    try:
        msg = json.loads(text)
    except ValueError:
        raise Refused("message is not JSON") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise Refused("message must be an object with a 'type'")
    kind = msg["type"]
    if kind == "settings":
        if set(msg) != {"type", "settings"}:
            raise Refused("a settings message holds 'type' and 'settings' only")
        try:
            return {"type": kind, "settings": Settings.model_validate(msg["settings"])}
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "settings"
            raise Refused(f"settings.{where}: {first['msg']}") from None
    if kind in COMMANDS:
        if set(msg) != {"type"}:
            raise Refused(f"a {kind} message holds 'type' only")
        return {"type": kind}
    raise Refused(f"unknown message type {kind!r}")


def create_app(host: str = "127.0.0.1", port: int = 8765) -> FastAPI:
    """The FastAPI application serving the page and the WebSocket for ``host:port``."""

    hosts = allowed_hosts(host, port)
    origins = {f"http://{h}" for h in hosts}
    app = FastAPI(title="flowlearn playground", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sessions = 0

    @app.middleware("http")
    async def _check_host(request: Request, call_next):
        if request.headers.get("host") not in hosts:
            return PlainTextResponse("unknown Host", status_code=400)
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; "
            "style-src 'self'; script-src 'self'; frame-ancestors 'none'"
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.get("/")
    async def index() -> HTMLResponse:
        return HTMLResponse(_static("index.html").decode("utf-8"))

    @app.get("/favicon.ico")
    async def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/static/{name}")
    async def static(name: str) -> Response:
        if name not in STATIC:
            return PlainTextResponse("not found", status_code=404)
        kind = "text/javascript" if name.endswith(".js") else "text/css"
        return Response(_static(name), media_type=kind)

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        if (
            websocket.headers.get("host") not in hosts
            or websocket.headers.get("origin") not in origins
        ):
            await websocket.close(code=1008)
            return
        await websocket.accept()
        app.state.sessions += 1
        try:
            await _serve_tab(websocket)
        except WebSocketDisconnect:
            pass
        finally:
            app.state.sessions -= 1

    async def _serve_tab(websocket: WebSocket) -> None:
        session: Session | None = None
        playing = asyncio.Event()
        lock = asyncio.Lock()

        async def send(payload: dict) -> None:
            await websocket.send_text(json.dumps(_finite(payload)))

        def state() -> dict:
            assert session is not None
            out = session.state()
            out["playing"] = playing.is_set()
            out["sessions"] = app.state.sessions  # tabs open on this server
            return out

        async def train() -> None:
            chunk, last = 1, 0.0
            while True:
                await playing.wait()
                async with lock:
                    assert session is not None
                    start = time.perf_counter()
                    await asyncio.to_thread(session.step, chunk)
                    spent = time.perf_counter() - start
                    chunk = max(1, min(100, round(chunk * 0.05 / max(spent, 1e-4))))
                    if time.perf_counter() - last >= UPDATE_EVERY:
                        await send(state())
                        last = time.perf_counter()
                await asyncio.sleep(0)

        trainer = asyncio.create_task(train())
        try:
            while True:
                text = await websocket.receive_text()
                try:
                    msg = parse(text)
                    if session is None and msg["type"] != "settings":
                        raise Refused("the first message must be the settings")
                except Refused as exc:
                    await send({"type": "error", "message": str(exc)})
                    await websocket.close(code=1008)
                    return
                async with lock:
                    kind = msg["type"]
                    data_before = session.data_version if session else None
                    if kind == "settings":
                        if session is None:
                            session = await asyncio.to_thread(Session, msg["settings"])
                        else:
                            await asyncio.to_thread(session.update, msg["settings"])
                    elif kind == "play":
                        playing.set()
                    elif kind == "pause":
                        playing.clear()
                    elif kind == "step":
                        playing.clear()
                        await asyncio.to_thread(session.step, 1)
                    elif kind == "reset":
                        playing.clear()
                        session.reset()
                    elif kind == "regenerate":
                        await asyncio.to_thread(session.regenerate)
                    elif kind == "export":
                        blob = await asyncio.to_thread(session.export)
                        await send({
                            "type": "export",
                            "filename": "playground-network.safetensors",
                            "data": base64.b64encode(blob).decode("ascii"),
                        })  # fmt: skip
                        continue
                    if session.data_version != data_before:
                        await send(session.points())
                    if kind in ("settings", "regenerate", "reset"):
                        await send({"type": "code", "code": session.code()})
                    await send(state())
        finally:
            trainer.cancel()

    return app


def serve(host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False) -> None:
    """Run the playground until interrupted (one torch thread for the whole process)."""
    import threading
    import webbrowser

    import torch
    import uvicorn

    torch.set_num_threads(1)
    url = f"http://{host if ':' not in host else f'[{host}]'}:{port}/"
    if open_browser:
        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    uvicorn.run(
        create_app(host, port),
        host=host,
        port=port,
        ws_max_size=MAX_MESSAGE,
        log_level="warning",
    )
