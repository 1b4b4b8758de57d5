"""The playground without a browser: settings validated and capped, the site's training
reproduced (the talk's screenshot setting), export / load, the generated code runs, and the
server's WebSocket: Host and Origin checked, hostile messages close only their connection, tabs
independent, training stopped with the tab, and 20 concurrent sessions all updating."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
import torch
from pydantic import ValidationError
from typer.testing import CliRunner

from flowlearn.cli import app
from flowlearn.playground import Session, Settings, load_network, predict, pytorch_code
from flowlearn.playground.server import Refused, parse
from flowlearn.playground.session import output, talk_point

websockets = pytest.importorskip("websockets")
from websockets.asyncio.client import connect  # noqa: E402


# ------------------------------------------------------------------------------ settings
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hidden": [4] * 7}, "at most 6"),
        ({"hidden": [9]}, "1 to 8 neurons"),
        ({"hidden": [0]}, "1 to 8 neurons"),
        ({"points": 10_001}, "less than or equal to 10000"),
        ({"lr": 0.05}, "not one of the site's"),
        ({"reg_rate": 0.2}, "not one of the site's"),
        ({"ratio": 95}, "less than or equal to 90"),
        ({"noise": -5}, "greater than or equal to 0"),
        ({"batch": 31}, "less than or equal to 30"),
        ({"features": []}, "at least 1"),
        ({"features": ["x1", "x1"]}, "repeated"),
        ({"features": ["x3"]}, "x3"),
        ({"dataset": "moons"}, "moons"),
        ({"activation": "elu"}, "elu"),
        ({"evil": 1}, "Extra inputs"),
    ],
)
def test_bad_settings_are_refused(change, message):
    with pytest.raises(ValidationError, match=message):
        Settings.model_validate({**Settings().model_dump(), **change})


def test_switching_problem_takes_a_data_set_of_that_problem():
    s = Settings(problem="regression", dataset="circle").matches_problem()
    assert s.dataset == "plane"
    session = Session(Settings())
    session.update(Settings(problem="regression"))
    assert session.settings.dataset == "plane" and np.unique(session.y_train).size > 2


@pytest.mark.parametrize(("dataset", "at_most"), [("plane", 0.002), ("multi-gaussian", 0.03)])
def test_the_talks_screenshot_setting_reaches_about_0_01(dataset, at_most, one_torch_thread):
    # the slide: regression, 50 % training, noise 0, batch 10, 6 and 2 tanh neurons, lr 0.03,
    # no regularisation; epoch 407, test loss 0.011, training loss 0.008 (data set not shown)
    s = Settings(problem="regression", dataset=dataset, ratio=50, noise=0, batch=10,
                 hidden=[6, 2], activation="tanh", lr=0.03)  # fmt: skip
    session = Session(s)
    session.step(407)
    train, test = session.losses
    assert session.epoch == 407 and test <= at_most and train <= at_most, (train, test)


def test_training_is_the_sites_sgd_and_regularisation_shrinks_the_weights(one_torch_thread):
    plain = Session(Settings(hidden=[8, 8]))
    l2 = Session(Settings(hidden=[8, 8], regularization="L2", reg_rate=0.1))
    l1 = Session(Settings(hidden=[8, 8], regularization="L1", reg_rate=0.01))
    for s in (plain, l2, l1):
        s.step(30)

    def norm(s):
        return sum(float(m.abs().sum()) for m in s.net.state_dict().values() if m.ndim == 2)

    assert norm(l2) < 0.8 * norm(plain) and norm(l1) < norm(plain)
    # initial state: weights in [-0.5, 0.5], biases 0.1
    fresh = Session(Settings(hidden=[8]))
    w = fresh.net.net[0].weight.detach()
    assert float(w.abs().max()) <= 0.5 and torch.allclose(fresh.net.net[0].bias, torch.tensor(0.1))


def test_export_loads_back_and_predicts_the_same(tmp_path, one_torch_thread):
    session = Session(Settings(features=["x1^2", "x2^2"], hidden=[]))
    session.step(20)
    path = tmp_path / "net.safetensors"
    path.write_bytes(session.export())
    net, settings = load_network(str(path))
    assert settings == session.settings
    X = np.array([[0.0, 0.0], [5.0, 5.0]], dtype=np.float32)
    expected = output(session.net, torch.tensor([[0, 0], [25, 25]], dtype=torch.float32),
                      "classification").detach().numpy()  # fmt: skip
    assert np.allclose(predict(net, settings, X), expected)
    res = CliRunner().invoke(app, ["playground", "eval", str(path), "--x1", "0", "--x2", "0",
                                   "--x1", "5", "--x2", "5"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "(0, 0): class +1" in res.output and "(5, 5): class -1" in res.output
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a network")
    res = CliRunner().invoke(app, ["playground", "eval", str(bad), "--x1", "0", "--x2", "0"])
    assert res.exit_code == 2 and "not a safetensors file" in res.output


def test_the_code_panel_is_runnable_pytorch(capsys, one_torch_thread):
    s = Settings(dataset="xor", features=["x1", "x2", "x1*x2"], hidden=[3],
                 regularization="L2", reg_rate=0.001, activation="relu")  # fmt: skip
    code = pytorch_code(s)
    assert "nn.Linear(3, 3)" in code and "nn.ReLU()" in code and "lr=0.03" in code
    exec(compile(code, "playground_code", "exec"), {})
    printed = capsys.readouterr().out
    test_loss = float(printed.split("test loss")[1])
    assert test_loss < 0.2, printed  # xor with X1X2 is easy


def test_the_talks_points_are_quoted_from_the_setting():
    assert talk_point(Settings(hidden=[], features=["x1^2", "x2^2"]), 0.1, 0.1, 10)["topic"] == (
        "features vs depth"
    )
    assert talk_point(Settings(hidden=[]), 0.1, 0.1, 10)["topic"] == "capacity"
    assert talk_point(Settings(hidden=[8, 8, 8]), 0.01, 0.2, 100)["topic"] == "over-fitting"
    assert talk_point(Settings(hidden=[8] * 6), 0.1, 0.1, 10)["topic"] == "capacity"  # 393 > 250


# ---------------------------------------------------------------------------- messages
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "object with a 'type'"),
        ('{"type": "shutdown"}', "unknown message type"),
        ('{"type": "play", "extra": 1}', "'type' only"),
        ('{"type": "settings", "settings": {"hidden": [8, 8, 8, 8, 8, 8, 8]}}', "settings.hidden"),
        ('{"type": "settings", "settings": {}, "x": 1}', "'type' and 'settings' only"),
        ('{"type": "play", "pad": "' + "x" * 20_000 + '"}', "over 16384 bytes"),
    ],
)
def test_hostile_messages_are_refused(text, message):
    with pytest.raises(Refused, match=message):
        parse(text)


# ------------------------------------------------------------------------------ server
def _ws(url: str) -> str:
    return url.replace("http://", "ws://") + "/ws"


async def _receive(ws, kind: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
        if msg["type"] == kind:
            return msg


def test_host_and_origin_are_checked(playground_url):
    # a DNS-rebinding page reaches the server under another host name
    req = urllib.request.Request(playground_url + "/", headers={"Host": "evil.example:80"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 400
    with urllib.request.urlopen(playground_url + "/", timeout=10) as page:
        assert "Content-Security-Policy" in page.headers and b"app.js" in page.read()

    async def attempt(origin):
        async with connect(_ws(playground_url), origin=origin, open_timeout=10) as ws:
            await ws.send(json.dumps({"type": "settings", "settings": {}}))
            return (await _receive(ws, "state"))["epoch"]

    assert asyncio.run(attempt(playground_url)) == 0
    for origin in ("http://evil.example", "http://127.0.0.1:1"):
        with pytest.raises(websockets.exceptions.InvalidStatus):
            asyncio.run(attempt(origin))


def test_a_hostile_message_closes_only_its_connection(playground_url):
    async def run():
        async with (
            connect(_ws(playground_url), origin=playground_url) as good,
            connect(_ws(playground_url), origin=playground_url) as bad,
        ):
            await good.send(json.dumps({"type": "settings", "settings": {}}))
            await _receive(good, "state")
            await bad.send(json.dumps({"type": "settings", "settings": {"hidden": [99]}}))
            error = await _receive(bad, "error")
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await bad.recv()
            await good.send(json.dumps({"type": "step"}))
            state = await _receive(good, "state")
            return error, closed.value.rcvd.code, state["epoch"]

    error, code, epoch = asyncio.run(run())
    assert "settings.hidden" in error["message"] and code == 1008 and epoch == 1


def test_tabs_train_independently_and_stop_with_the_tab(playground_url):
    async def run():
        async with connect(_ws(playground_url), origin=playground_url) as a:
            async with connect(_ws(playground_url), origin=playground_url) as b:
                await a.send(json.dumps({"type": "settings", "settings": {"hidden": [3]}}))
                await b.send(json.dumps({"type": "settings", "settings": {
                    "problem": "regression", "hidden": [5, 5]}}))  # fmt: skip
                sa, sb = await _receive(a, "state"), await _receive(b, "state")
                await a.send(json.dumps({"type": "play"}))
                while (await _receive(a, "state"))["epoch"] < 5:
                    pass
                # b is paused: a step moves it by exactly one epoch
                await b.send(json.dumps({"type": "step"}))
                sb2 = await _receive(b, "state")
                exported = None
                await b.send(json.dumps({"type": "export"}))
                exported = await _receive(b, "export")
            # b's tab is closed; a still updates
            before = (await _receive(a, "state"))["epoch"]
            later = before
            while later <= before:
                later = (await _receive(a, "state"))["epoch"]
            return sa, sb, sb2, exported, later > before

    sa, sb, sb2, exported, a_moves = asyncio.run(run())
    assert sa["settings"]["hidden"] == [3] and sb["settings"]["dataset"] == "plane"
    assert sb2["epoch"] == 1 and a_moves
    _net, settings = load_network(base64.b64decode(exported["data"]))
    assert settings.hidden == [5, 5] and settings.problem == "regression"
    # after both tabs closed, no session is left training (the server counts open tabs)
    deadline = time.monotonic() + 10
    while (tasks := asyncio.run(_count_sessions(playground_url))) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert tasks == 0


async def _count_sessions(url: str) -> int:
    # the server's own count of open tabs, read through a fresh connection: that one only
    async with connect(_ws(url), origin=url) as ws:
        await ws.send(json.dumps({"type": "settings", "settings": {}}))
        state = await _receive(ws, "state")
        return state["sessions"] - 1


def test_twenty_concurrent_sessions_all_keep_updating(playground_url):
    """Load test, loopback only and bounded: 20 tabs play at once on the shared cores (one
    torch thread each); every one of them receives at least 3 updates with a rising epoch."""
    n, updates, budget = 20, 3, 60.0

    async def tab(k: int) -> list[int]:
        async with connect(_ws(playground_url), origin=playground_url, open_timeout=20) as ws:
            await ws.send(json.dumps({"type": "settings", "settings": {"seed": k}}))
            await _receive(ws, "state", budget)
            await ws.send(json.dumps({"type": "play"}))
            epochs: list[int] = []
            while len(epochs) < updates:  # updates from training (the reply to play is 0)
                epoch = (await _receive(ws, "state", budget))["epoch"]
                if epoch > 0:
                    epochs.append(epoch)
            return epochs

    async def run():
        return await asyncio.wait_for(asyncio.gather(*(tab(k) for k in range(n))), budget)

    start = time.monotonic()
    results = asyncio.run(run())
    assert len(results) == n
    for epochs in results:
        assert epochs == sorted(epochs) and epochs[-1] > epochs[0] >= 1, epochs
    assert time.monotonic() - start < budget
