"""Shared fixtures: where the reference data lives, and a headless matplotlib."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """``$FLOWLEARN_DATA`` or ``<repo>/../shared/data`` (the project's reference data)."""
    env = os.environ.get("FLOWLEARN_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


#: Set by CI, which always has ../shared: a test that needs the reference data then fails
#: instead of skipping, so CI cannot pass by skipping what it was meant to run.
REQUIRE_SHARED = "FLOWLEARN_REQUIRE_SHARED"


def missing_shared(reason: str) -> None:
    """Skip (a user without the reference data) or fail (CI, ``FLOWLEARN_REQUIRE_SHARED=1``)."""
    if os.environ.get(REQUIRE_SHARED, "") not in ("", "0"):
        pytest.fail(f"{reason}, but {REQUIRE_SHARED} is set: CI must run this test")
    pytest.skip(reason)


def shared_subfolder(name: str) -> Path:
    """``<reference data>/name``, or a skip (a fail in CI) naming what is missing."""
    folder = shared_data_dir() / name
    if not folder.is_dir():
        missing_shared(f"reference data folder {folder} is absent")
    return folder


@pytest.fixture
def one_torch_thread():
    """Tiny tensors on a busy 2-core machine: more intra-op threads only contend (a fit of
    test_flow_models took 40 s with 2 threads, 0.6 s with 1). The count is restored after."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tree_bytes(path: Path) -> dict[str, bytes | None]:
    """Every file under ``path`` (or ``path`` itself) by relative name, with its bytes; folders
    map to None. Two equal snapshots mean nothing was added, removed or changed."""
    path = Path(path)
    if path.is_file():
        return {".": path.read_bytes()}
    return {
        str(p.relative_to(path)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(path.rglob("*"))
    }


@pytest.fixture
def read_only_dir(tmp_path) -> Path:
    """A folder no file can be created in: a chmod 555 folder, or for root (whom permissions
    do not stop) /sys, where the kernel refuses new files to everyone."""
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    import tempfile

    try:
        fd, name = tempfile.mkstemp(dir="/sys")
    except OSError:
        yield Path("/sys")
        return
    os.close(fd)
    os.unlink(name)
    pytest.skip("no read-only folder on this machine: root can write into /sys")


def safetensors_parts(path: Path) -> tuple[dict, bytes]:
    """A safetensors file as ``(header, data)``: the JSON header (tensor offsets and
    ``__metadata__``) and the bytes after it; :func:`write_safetensors_parts` puts them back."""
    import json

    data = Path(path).read_bytes()
    n = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def write_safetensors_parts(path: Path, header: dict, body: bytes) -> None:
    import json

    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    Path(path).write_bytes(len(raw).to_bytes(8, "little") + raw + body)


def as_layout_1(path: Path, edit=None) -> None:
    """Rewrite a checkpoint as flowlearn wrote it before digests (layout "1"), after
    ``edit(section)`` changed its flowlearn section (a dict), if given."""
    import json

    header, body = safetensors_parts(path)
    meta = header["__metadata__"]
    meta["flowlearn_layout"] = "1"
    meta.pop("digest", None)
    if edit is not None:
        section = json.loads(meta["flowlearn"])
        edit(section)
        meta["flowlearn"] = json.dumps(section)
    write_safetensors_parts(path, header, body)


@pytest.fixture(scope="module")
def playground_url():
    """A playground server on a free loopback port for the module's tests (one torch thread,
    as `flowlearn playground` runs it); its URL, without the trailing slash."""
    import socket
    import threading
    import time

    import torch
    import uvicorn

    from flowlearn.playground.server import MAX_MESSAGE, create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    config = uvicorn.Config(
        create_app("127.0.0.1", port),
        host="127.0.0.1",
        port=port,
        ws_max_size=MAX_MESSAGE,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the playground server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    torch.set_num_threads(threads)


def refused_before_running(tmp_path: Path, experiment: str, sets: list[str]) -> str:
    """``flowlearn run EXPERIMENT --quick --set ...`` into ``tmp_path``: asserts exit code 2 and
    that nothing was written (no run directory), and returns the output with whitespace joined
    (rich wraps long messages) for the caller to look for its message."""
    from typer.testing import CliRunner

    from flowlearn.cli import app

    args = ["run", experiment, "--quick", "--out", str(tmp_path)]
    for s in sets:
        args += ["--set", s]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2, res.output
    assert not any(tmp_path.iterdir())
    return " ".join(res.output.split())
