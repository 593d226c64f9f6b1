"""The browser editor in a real Chromium: open the photo, draw a drag, watch the preview, render, download.

Screenshots go to ``$MOTIONKIT_LOOK/serve`` (default: the test's temporary folder).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.request
from pathlib import Path

import cv2
import pytest

from tests.serve.conftest import CHELSEA
from tests.serve.videos import find_patch, frames_of

webdriver = pytest.importorskip("selenium.webdriver")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver")]


@pytest.fixture
def browser():
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,860", "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def until(condition, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_draw_a_drag_preview_render_and_download(server, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    look = Path(os.environ.get("MOTIONKIT_LOOK", tmp_path)) / "serve"
    look.mkdir(parents=True, exist_ok=True)
    url, token = server
    browser.get(f"{url}/?token={token}")
    browser.find_element(By.ID, "open").send_keys(str(CHELSEA))
    until(lambda: "Opened" in browser.find_element(By.ID, "status").text, what="the upload")
    browser.execute_script("document.getElementById('long-side').value = '128'")

    # drag the cat's left eye 36 px right and 12 px down (image pixels)
    start, end = (148, 118), (184, 130)
    canvas = browser.find_element(By.ID, "canvas")

    def offset(point):
        return browser.execute_script(
            "const c = document.getElementById('canvas'), r = c.getBoundingClientRect(), k = r.width / c.width;"
            "const p = window.motionkitEditor.toCanvas(arguments[0], arguments[1]);"
            "return [p.x * k - r.width / 2, p.y * k - r.height / 2];", *point)

    (sx, sy), (ex, ey) = offset(start), offset(end)
    chain = ActionChains(browser).move_to_element_with_offset(canvas, round(sx), round(sy)).click_and_hold()
    for i in range(1, 6):
        chain = chain.move_to_element_with_offset(canvas, round(sx + (ex - sx) * i / 5), round(sy + (ey - sy) * i / 5))
    chain.release().perform()
    spec = browser.execute_script("return window.motionkitEditor.spec()")
    assert len(spec["trajectories"]) == 1
    browser.save_screenshot(str(look / "1-drag-drawn.png"))

    # the preview arrives and plays
    until(lambda: browser.execute_script("return document.getElementById('preview').readyState") >= 2,
          what="the preview video")
    time.sleep(0.6)
    assert browser.execute_script("return document.getElementById('preview').currentTime") > 0
    browser.save_screenshot(str(look / "2-preview-playing.png"))

    # undo removes the drag, redo brings it back
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.CONTROL, "z")
    assert browser.execute_script("return window.motionkitEditor.state.tracks.length") == 0
    body.send_keys(Keys.CONTROL, Keys.SHIFT, "z")
    assert browser.execute_script("return window.motionkitEditor.state.tracks.length") == 1

    browser.find_element(By.ID, "render").click()
    link = until(lambda: browser.find_element(By.ID, "download").get_attribute("hidden") is None
                 and browser.find_element(By.ID, "download").get_attribute("href"), timeout=120, what="the render")
    assert float(browser.find_element(By.ID, "progress").get_attribute("value")) == 1.0
    browser.save_screenshot(str(look / "3-rendered.png"))

    with urllib.request.urlopen(link, timeout=30) as answer:
        frames = frames_of(answer.read())
    height, width = cv2.imread(str(CHELSEA)).shape[:2]
    # the mp4 encoder keeps sizes even (yuv420): 451 px wide comes back 450
    assert abs(frames.shape[1] - height) <= 1 and abs(frames.shape[2] - width) <= 1
    keys = spec["trajectories"][0]["keyframes"]
    drawn_start = (keys[0]["u"] * width - 0.5, keys[0]["v"] * height - 0.5)
    drawn_end = (keys[-1]["u"] * width - 0.5, keys[-1]["v"] * height - 0.5)
    assert abs(drawn_end[0] - drawn_start[0] - 36) < 3 and abs(drawn_end[1] - drawn_start[1] - 12) < 3
    found = find_patch(frames[0], frames[-1], drawn_start, half=8)
    assert abs(found[0] - drawn_end[0]) <= 3 and abs(found[1] - drawn_end[1]) <= 3, (found, drawn_end)
    cv2.imwrite(str(look / "4-first-last.png"), cv2.cvtColor(cv2.hconcat([frames[0], frames[-1]]), cv2.COLOR_RGB2BGR))
    (look / "drag.json").write_text(json.dumps({"start": drawn_start, "end": drawn_end, "found": found}))


def test_import_a_spec_with_a_camera_and_move_the_sliders(server, browser, tmp_path, monkeypatch):
    from selenium.webdriver.common.by import By

    from motionkit import registry
    from tests.serve.test_routes import _Grouping

    look = Path(os.environ.get("MOTIONKIT_LOOK", tmp_path)) / "serve"
    look.mkdir(parents=True, exist_ok=True)
    url, token = server
    browser.get(f"{url}/?token={token}")
    browser.find_element(By.ID, "open").send_keys(str(CHELSEA))
    until(lambda: "Opened" in browser.find_element(By.ID, "status").text, what="the upload")
    doc = {"spec_version": 1, "frames": 8, "fps": 8, "reference_size": [300, 451],
           "trajectories": [{"keyframes": [{"t": 0, "u": 0.3, "v": 0.4}, {"t": 7, "u": 0.4, "v": 0.45}]},
                            {"keyframes": [{"t": 0, "u": 0.8, "v": 0.8}]}],
           "camera": {"keyframes": [{"t": 7, "zoom": 1.1, "orbit": 2.0}], "field_of_view": 40.0}}
    path = tmp_path / "shot.json"
    path.write_text(json.dumps(doc))
    browser.find_element(By.ID, "import").send_keys(str(path))
    until(lambda: browser.execute_script("return window.motionkitEditor.state.tracks.length") == 2, what="the import")
    assert float(browser.find_element(By.ID, "cam-zoom").get_attribute("value")) == 1.1
    browser.execute_script("const s = document.getElementById('cam-pan-u'); s.value = '0.05';"
                           "s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change'));")
    exported = browser.execute_script("return window.motionkitEditor.spec()")
    # the sliders' keys change, what the editor does not draw (orbit, field of view, the pin) rides along
    key = exported["camera"]["keyframes"][-1]
    assert key["zoom"] == 1.1 and key["pan"] == [0.05, 0] and key["orbit"] == 2.0 and key["t"] == 7
    assert exported["camera"]["field_of_view"] == 40.0 and len(exported["trajectories"][1]["keyframes"]) == 1
    until(lambda: browser.execute_script(
        "const v = document.getElementById('preview'); return v.readyState >= 2 && v.dataset.spec.includes('0.05')"),
        what="the preview of the moved camera")
    browser.save_screenshot(str(look / "5-imported-camera.png"))

    # the object regions overlay (the server's predictor swapped for one with regions)
    monkeypatch.setattr(registry, "create", lambda kind, name, **options: _Grouping())
    browser.find_element(By.ID, "show-regions").click()
    until(lambda: "region 1: tracks 1" in browser.find_element(By.ID, "regions-info").text, what="the regions")
    browser.save_screenshot(str(look / "6-regions-overlay.png"))
