"""The playground in a real browser: Debian's Chromium driven headless by Playwright (never a
browser download). Every control must reach the server and change what it should; the network
learns the circle; the heat maps really render (pixel statistics); a shared URL gives back the
same state; the page works under its own Content-Security-Policy.

On a machine without Chromium these tests skip with the reason; CI sets
FLOWLEARN_REQUIRE_BROWSER=1, which makes a missing browser a failure."""

from __future__ import annotations

import io
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        reason = "Chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get("FLOWLEARN_REQUIRE_BROWSER"):
            pytest.fail(reason + "; FLOWLEARN_REQUIRE_BROWSER is set")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        yield browser
        browser.close()


def _open(browser, url: str, bypass_csp: bool = True):
    # bypass_csp lets the test's own wait functions run (they are evaluated scripts); the page
    # itself is tested under its CSP in test_the_page_works_under_its_content_security_policy
    context = browser.new_context(
        bypass_csp=bypass_csp, viewport={"width": 1400, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    return context, page


@pytest.fixture
def page(browser, playground_url):
    context, page = _open(browser, playground_url + "/")
    _wait(page, "document.body.dataset.serverSettings !== undefined")
    yield page
    assert not page.errors
    context.close()


def _wait(page, condition: str, timeout: float = 30_000) -> None:
    page.wait_for_function(condition, timeout=timeout)


def server(page) -> dict:
    return json.loads(page.evaluate("document.body.dataset.serverSettings"))


def until(page, check, timeout: float = 30.0) -> dict:
    """Poll the settings the server echoed until ``check(settings)`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        s = server(page)
        if check(s):
            return s
        if time.monotonic() > deadline:
            raise AssertionError(f"the server's settings never satisfied the check: {s}")
        time.sleep(0.05)


def epoch(page) -> int:
    return int(page.evaluate("document.body.dataset.epoch"))


def data_version(page) -> int:
    return int(page.evaluate("document.body.dataset.dataVersion"))


def pixels(page, selector: str = "#output") -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(page.locator(selector).screenshot())).convert("RGB"))


def test_every_control_reaches_the_server_and_changes_what_it_should(page):
    # data set: another data set, new points
    v = data_version(page)
    page.click(".dataset[data-name='xor']")
    until(page, lambda s: s["dataset"] == "xor")
    assert data_version(page) > v
    # sliders
    for sel, key, value in (
        ("#ratio", "ratio", 70),
        ("#noise", "noise", 25),
        ("#batch", "batch", 20),
    ):
        page.locator(sel).fill(str(value))
        until(page, lambda s, k=key, x=value: s[k] == x)
    # regenerate: new seed, new points
    seed, v = server(page)["seed"], data_version(page)
    page.click("#regenerate")
    until(page, lambda s: s["seed"] != seed)
    _wait(page, f"Number(document.body.dataset.dataVersion) > {v}")
    # features on and off, with their heat map
    page.click(".feature[data-name='x1^2']")
    until(page, lambda s: s["features"] == ["x1", "x2", "x1^2"])
    page.click(".feature[data-name='x1']")
    until(page, lambda s: s["features"] == ["x2", "x1^2"])
    # layers and neurons
    page.click("#add-layer")
    until(page, lambda s: s["hidden"] == [4, 2, 2])
    assert page.locator(".column.layer").count() == 3
    page.click("#remove-layer")
    until(page, lambda s: s["hidden"] == [4, 2])
    page.locator(".column.layer").nth(0).locator(".add-neuron").click()
    until(page, lambda s: s["hidden"] == [5, 2])
    assert page.locator(".column.layer").nth(0).locator(".node").count() == 5
    page.locator(".column.layer").nth(1).locator(".remove-neuron").click()
    until(page, lambda s: s["hidden"] == [5, 1])
    # the drop-downs
    for sel, key, value in (("#lr", "lr", "0.1"), ("#activation", "activation", "relu"),
                            ("#regularization", "regularization", "L2"),
                            ("#reg-rate", "reg_rate", "0.01")):  # fmt: skip
        page.select_option(sel, value)
        until(page, lambda s, k=key, x=value: str(s[k]) == x)
    # links: one per weight of the network on screen (2 features x 5 + 5 x 1 + 1 x 1)
    _wait(page, "document.querySelectorAll('#links line').length === 16")
    # play, pause, step, reset
    page.click("#play")
    _wait(page, "Number(document.body.dataset.epoch) >= 5")
    page.click("#play")  # pause
    time.sleep(0.5)
    paused = epoch(page)
    time.sleep(0.8)
    assert epoch(page) == paused
    page.click("#step")
    _wait(page, f"Number(document.body.dataset.epoch) === {paused + 1}")
    page.click("#reset")
    _wait(page, "Number(document.body.dataset.epoch) === 0")
    # show test data draws more points; discretise makes the output two-coloured
    before = pixels(page)
    page.check("#show-test")
    until(page, lambda s: s["show_test"])
    assert np.abs(pixels(page).astype(int) - before).sum() > 0
    page.check("#discretize")
    until(page, lambda s: s["discretize"])
    # problem type: regression takes a regression data set
    page.select_option("#problem", "regression")
    s = until(page, lambda s: s["problem"] == "regression")
    assert s["dataset"] == "plane"
    assert page.locator(".dataset").count() == 2
    # the code panel shows the network on screen
    page.click("#show-code")
    assert page.locator("#code").is_visible()
    assert "nn.Linear(2, 5)" in page.locator("#code").text_content()
    # the talk's point for the setting
    assert page.locator("#talk").text_content()


def test_export_downloads_a_network_flowlearn_loads(page, tmp_path):
    from flowlearn.playground import load_network

    with page.expect_download() as info:
        page.click("#export")
    path = tmp_path / "net.safetensors"
    info.value.save_as(path)
    _net, settings = load_network(str(path))
    assert settings.model_dump() == server(page)


def test_the_circle_is_learned_and_the_heat_maps_render(page):
    page.click("#play")
    _wait(page, "Number(document.body.dataset.testLoss) < 0.05", timeout=90_000)
    img = pixels(page).reshape(-1, 3).astype(int)
    r, _g, b = img[:, 0], img[:, 1], img[:, 2]
    blue, orange = (b > r + 60).mean(), (r > b + 60).mean()
    assert img.std() > 20 and blue > 0.05 and orange > 0.05, (img.std(), blue, orange)
    # the centre of the square is the circle's class (blue), a corner the ring's (orange)
    out = pixels(page)
    h, w, _ = out.shape
    centre, corner = out[h // 2, w // 2].astype(int), out[5, 5].astype(int)
    assert centre[2] > centre[0] and corner[0] > corner[2]
    # every hidden neuron's and every feature's map is drawn, not blank
    for node in page.locator(".node canvas, .feature:not(.off) canvas").all():
        from PIL import Image

        shot = np.asarray(Image.open(io.BytesIO(node.screenshot())).convert("L"))
        assert shot.std() > 3
    page.click("#play")


def test_a_shared_url_gives_back_the_same_state(browser, page, playground_url):
    page.click(".dataset[data-name='spiral']")
    page.click(".feature[data-name='sin(x1)']")
    page.click("#add-layer")
    page.select_option("#activation", "sigmoid")
    page.locator("#noise").fill("10")
    state = until(page, lambda s: s["noise"] == 10 and s["activation"] == "sigmoid"
                  and len(s["hidden"]) == 3 and s["dataset"] == "spiral"
                  and "sin(x1)" in s["features"])  # fmt: skip
    url = page.url
    assert "dataset=spiral" in url
    context, again = _open(browser, url)
    _wait(again, "document.body.dataset.serverSettings !== undefined")
    assert server(again) == state
    assert again.locator("#activation").input_value() == "sigmoid"
    assert again.locator("#noise").input_value() == "10"
    context.close()


def test_the_page_works_under_its_content_security_policy(browser, playground_url):
    from playwright.sync_api import expect

    context, page = _open(browser, playground_url + "/", bypass_csp=False)
    expect(page.locator("#status")).to_have_text("connected", timeout=30_000)
    expect(page.locator("#epoch")).to_have_text("000000")
    page.click("#step")
    expect(page.locator("#epoch")).to_have_text("000001", timeout=30_000)
    assert not page.errors
    context.close()


def test_a_broken_link_is_brought_back_into_range(browser, playground_url):
    url = (playground_url + "/#hidden=99,0,3,4,5,6,7&lr=0.5&noise=73&dataset=moons&features=x9"
           "&activation=elu&ratio=5")  # fmt: skip
    context, page = _open(browser, url)
    _wait(page, "document.body.dataset.serverSettings !== undefined")
    s = server(page)
    assert s["hidden"] == [8, 1, 3, 4, 5, 6] and s["lr"] == 0.03 and s["noise"] == 50
    assert s["dataset"] == "circle" and s["features"] == ["x1"] and s["activation"] == "tanh"
    assert s["ratio"] == 10
    assert not page.errors
    context.close()
