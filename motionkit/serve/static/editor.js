// motionkit's browser motion editor: open an image or a video, draw drags, pins and motion
// brushes, time them on the timeline, watch the preview, render, check, translate.
// Plain modern JavaScript modules, no build step. Talks to the service's /api routes (/docs).

import { api, upload } from "./api.js";
import { canvas, draw, fit, toCanvas, toImage, view } from "./draw.js";
import * as jobs from "./jobs.js";
import { decode, encode, newLayer, paint } from "./masks.js";
import {
  addBrush, brushOf, canRedo, canUndo, commit, layerOf, layers, loadSpec, newDrag, newPin, positionAt, resetHistory,
  restore, retime, spec, state, last,
} from "./model.js";
import { setupPanels, showBrush, showCamera, showLayers } from "./panels.js";
import { requestPreview, requestRegions, schedulePreview, setupPreview, show, syncVideo, togglePlay } from "./preview.js";
import * as timeline from "./timeline.js";

const $ = (id) => document.getElementById(id);
const tools = ["drag", "pin", "brush", "select"];
const ui = { tool: "drag", erase: false, size: 40 };

export function status(text, isError = false) {
  $("status").textContent = text;
  $("status").title = text;
  $("status").classList.toggle("error", isError);
}

// Something changed the document (or the selection): show it everywhere.
export function changed() {
  $("frames").value = state.frames; $("fps").value = state.fps;
  showCamera();
  const track = state.tracks[state.selected];
  const drag = track && track.keys.length > 1;
  $("easing").disabled = !drag;
  if (drag) $("easing").value = track.keys[0].easing;
  const segment = drag && state.key >= 0 && state.key < track.keys.length - 1;
  $("segment-easing").disabled = !segment;
  if (segment) $("segment-easing").value = track.keys[state.key].easing;
  $("track-info").textContent = track
    ? `${drag ? "drag" : "pin"} ${state.selected + 1} of ${state.tracks.length}: ` +
      track.keys.map((k) => `(${k.x.toFixed(0)}, ${k.y.toFixed(0)}) @${k.t}`).join(" → ")
    : `none (${state.tracks.length} tracks)`;
  $("undo").disabled = !canUndo(); $("redo").disabled = !canRedo();
  $("delete").disabled = !(track || state.layer);
  $("add-key").disabled = !drag;
  showLayers(); showBrush();
  timeline.render();
  draw();
  jobs.markStale(); jobs.updateButtons();
  schedulePreview();
}

export function committed() { commit(); changed(); }

async function undoRedo(step) { if (await restore(step)) changed(); }

// -- pointer tools ------------------------------------------------------------------------------

let gesture = null;

function nearest(p) {
  let best = null, limit = 10 / view.scale;
  state.tracks.forEach((track, t) => track.keys.forEach((q, k) => {
    const d = Math.hypot(q.x - p.x, q.y - p.y);
    if (d < limit) { limit = d; best = { t, k }; }
  }));
  return best;
}

function brushLayerForPainting() {
  if (!state.layer) { state.layer = addBrush().id; showLayers(); showBrush(); }
  return state.layer;
}

canvas.addEventListener("pointerdown", (event) => {
  if (!state.image || event.button !== 0) return;
  canvas.setPointerCapture(event.pointerId);
  const p = toImage(event);
  const hit = nearest(p);
  if (ui.tool === "select" || (hit && event.altKey && ui.tool !== "brush")) {
    state.selected = hit ? hit.t : -1;
    state.key = hit ? hit.k : -1;
    if (hit && state.tracks[hit.t].keys[hit.k].t !== undefined) state.frame = state.tracks[hit.t].keys[hit.k].t;
    gesture = hit ? { kind: "move", ...hit, from: { ...p } } : null;
    changed();
  } else if (ui.tool === "pin") {
    state.tracks.push(newPin(p));
    state.selected = state.tracks.length - 1; state.key = -1;
    committed();
  } else if (ui.tool === "brush" && event.shiftKey && brushOf(state.layer)) {
    gesture = { kind: "aim", start: p };   // Shift-drag: the brush's travel over the shot
  } else if (ui.tool === "brush") {
    const id = brushLayerForPainting();
    gesture = { kind: "paint", id, last: p, erase: ui.erase !== event.altKey };
    paint(layerOf(id), state.image.naturalWidth, p, p, ui.size, gesture.erase);
    draw();
  } else {
    gesture = { kind: "drag", start: p, end: p };
  }
});

canvas.addEventListener("pointermove", (event) => {
  const p = toImage(event);
  if (ui.tool === "brush") view.cursor = { ...p, size: ui.size, erase: ui.erase !== event.altKey };
  if (!gesture) { if (ui.tool === "brush") draw(); return; }
  if (gesture.kind === "drag" || gesture.kind === "aim") { gesture.end = p; view.pending = [gesture.start, p]; draw(); }
  else if (gesture.kind === "paint") {
    paint(layerOf(gesture.id), state.image.naturalWidth, gesture.last, p, ui.size, gesture.erase);
    gesture.last = p;
    draw();
  } else {
    Object.assign(state.tracks[gesture.t].keys[gesture.k], { x: p.x, y: p.y });
    gesture.moved = true;
    draw();
  }
});

canvas.addEventListener("pointerleave", () => { view.cursor = null; draw(); });

canvas.addEventListener("pointerup", async (event) => {
  if (!gesture) return;
  const done = gesture; gesture = null; view.pending = null;
  if (done.kind === "drag") {
    const end = toImage(event);
    if (Math.hypot(end.x - done.start.x, end.y - done.start.y) * view.scale < 4) { draw(); return; }
    state.tracks.push(newDrag(done.start, end));
    state.selected = state.tracks.length - 1; state.key = -1;
    committed();
  } else if (done.kind === "aim") {
    const end = toImage(event);
    const per = (d) => Number((d / last()).toFixed(3));
    brushOf(state.layer).direction = [per(end.x - done.start.x), per(end.y - done.start.y)];
    committed();
  } else if (done.kind === "paint") {
    const encoded = await encode(layerOf(done.id));
    if (done.id === "mask") state.mask.encoded = encoded; else brushOf(done.id).encoded = encoded;
    committed();
  } else if (done.moved) committed();
});

// Escape: cancel what the pointer is doing, else step the selection back.
async function escape() {
  if (gesture) {
    const cancelled = gesture; gesture = null; view.pending = null;
    if (cancelled.kind === "paint") {
      const encoded = cancelled.id === "mask" ? state.mask.encoded : brushOf(cancelled.id)?.encoded;
      const size = layerOf(cancelled.id);
      layers.set(cancelled.id, encoded ? await decode(encoded.mask, size.height, size.width) : newLayer(size.height, size.width));
    } else if (cancelled.kind === "move") {
      await restore(0);
    }
    changed();
    return;
  }
  if ($("shortcuts").open) return;
  if (state.key >= 0) state.key = -1;
  else if (state.selected >= 0) state.selected = -1;
  else state.layer = null;
  changed();
}

export function setTool(tool) {
  ui.tool = tool;
  for (const name of tools) $(`tool-${name}`).classList.toggle("active", name === tool);
  canvas.dataset.tool = tool;
  if (tool !== "brush") { view.cursor = null; draw(); }
  $("brush-panel").open = $("brush-panel").open || tool === "brush";
}

export function setErase(erase) {
  ui.erase = erase;
  $("mode-paint").classList.toggle("active", !erase);
  $("mode-erase").classList.toggle("active", erase);
}

export function setSize(size) {
  ui.size = Math.max(4, Math.min(160, Math.round(size)));
  $("brush-size").value = ui.size; $("brush-size-value").textContent = ui.size;
  if (view.cursor) { view.cursor.size = ui.size; draw(); }
}

function deleteSelected() {
  const track = state.tracks[state.selected];
  if (track && state.key > 0 && track.keys.length > 2) {
    track.keys.splice(state.key, 1);
    state.key = -1;
  } else if (track) {
    state.tracks.splice(state.selected, 1);
    state.selected = -1; state.key = -1;
  } else if (state.layer === "mask") {
    state.mask.encoded = null; layers.delete("mask"); state.layer = null;
  } else if (state.layer) {
    state.brushes = state.brushes.filter((b) => b.id !== state.layer);
    layers.delete(state.layer); state.layer = null;
  } else return;
  committed();
}

// A keyframe on the selected drag at the playhead, where the drag is at that frame.
function addKey() {
  const track = state.tracks[state.selected];
  const f = Math.round(state.frame);
  if (!track || track.keys.length < 2 || f <= 0 || track.keys.some((k) => k.t === f)) return;
  const at = positionAt(track, f);
  let i = track.keys.findIndex((k) => k.t > f);
  if (i < 0) i = track.keys.length;
  const easing = track.keys[Math.max(0, i - 1)].easing;
  track.keys.splice(i, 0, { t: f, x: at.x, y: at.y, easing, extra: {} });
  state.key = i;
  committed();
  status(`Keyframe at frame ${f}: move its point on the picture (Select tool, or Alt-drag).`);
}

export function setFrame(f) {
  state.frame = Math.min(last(), Math.max(0, f));
  syncVideo();
  timeline.showFrame();
  draw();
}

// -- files --------------------------------------------------------------------------------------

async function open(file) {
  status("Uploading…");
  try {
    const asset = await upload(file);
    const info = await (await api(`/api/assets/${asset.id}`)).json();
    const image = new Image();
    image.src = asset.kind === "video" ? URL.createObjectURL(await (await api(`/api/assets/${asset.id}/first-frame`)).blob()) : URL.createObjectURL(file);
    await image.decode();
    layers.clear();
    Object.assign(state, {
      asset: asset.id, image, video: asset.kind === "video" ? info : null, tracks: [], brushes: [], mask: { encoded: null },
      selected: -1, key: -1, layer: null, frame: 0, extra: {}, camera: { pan: [0, 0], zoom: 1, rotate: 0 },
    });
    if (state.video) { state.frames = Math.max(2, Math.min(64, info.frames)); state.fps = info.fps || 8; $("preview-spec").checked = false; }
    document.body.classList.add("has-image");
    document.body.classList.toggle("video-mode", Boolean(state.video));
    document.dispatchEvent(new Event("motionkit:opened"));
    fit();
    resetHistory();
    changed();
    if (state.video) {
      state.video.url = URL.createObjectURL(file);
      show(state.video.url, "source");
      $("preview-title").textContent = "The video (draw on its first frame)";
      status(`Opened the video ${file.name} (${info.size[1]} × ${info.size[0]}, ${info.frames} frames): draw what should move, then check it, or translate an edited frame 0.`);
    } else {
      $("preview-title").textContent = "Preview";
      status(`Opened ${file.name} (${image.naturalWidth} × ${image.naturalHeight}). Drag on the picture.`);
    }
  } catch (error) {
    status(`Open: ${error.message}`, true);
  }
}

$("open").addEventListener("change", (event) => { if (event.target.files[0]) open(event.target.files[0]); event.target.value = ""; });
$("import").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  event.target.value = "";
  if (!file) return;
  if (!state.image) { status("Open the image first, then import its spec.", true); return; }
  try { await loadSpec(JSON.parse(await file.text())); committed(); status(`Imported ${file.name}.`); }
  catch (error) { status(`Import: ${error.message}`, true); }
});
$("export").addEventListener("click", () => {
  if (!state.image) return;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([JSON.stringify(spec(), null, 1)], { type: "application/json" }));
  link.download = "motion_spec.json";
  link.click();
});
$("frames").addEventListener("change", (e) => { retime(Math.max(2, Math.min(64, Number(e.target.value) || 16))); committed(); });
$("fps").addEventListener("change", (e) => { state.fps = Math.max(1, Number(e.target.value) || 8); committed(); });
$("easing").addEventListener("change", (e) => {
  const track = state.tracks[state.selected];
  if (track) { track.keys.forEach((k) => { k.easing = e.target.value; }); committed(); }
});
$("segment-easing").addEventListener("change", (e) => {
  const track = state.tracks[state.selected];
  if (track && state.key >= 0) { track.keys[state.key].easing = e.target.value; committed(); }
});
$("undo").addEventListener("click", () => undoRedo(-1));
$("redo").addEventListener("click", () => undoRedo(1));
$("delete").addEventListener("click", deleteSelected);
$("add-key").addEventListener("click", addKey);
$("play").addEventListener("click", togglePlay);
$("help").addEventListener("click", () => $("shortcuts").showModal());
for (const name of tools) $(`tool-${name}`).addEventListener("click", () => setTool(name));
window.addEventListener("resize", () => { if (state.image) { fit(); draw(); } });
document.addEventListener("motionkit:changed", changed);

document.addEventListener("keydown", (event) => {
  if (event.target.matches("input, select, textarea")) return;
  const mod = event.ctrlKey || event.metaKey;
  const key = event.key.toLowerCase();
  if (mod && key === "z") { event.preventDefault(); undoRedo(event.shiftKey ? 1 : -1); }
  else if (mod && key === "y") { event.preventDefault(); undoRedo(1); }
  else if (mod) return;
  else if (event.key === "Delete" || event.key === "Backspace") { event.preventDefault(); deleteSelected(); }
  else if (event.key === "Escape") escape();
  else if (event.key === " ") { event.preventDefault(); togglePlay(); }
  else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
    event.preventDefault();
    setFrame(Math.round(state.frame) + (event.key === "ArrowLeft" ? -1 : 1) * (event.shiftKey ? 5 : 1));
  } else if (event.key === "Home" || event.key === "End") {
    event.preventDefault();
    setFrame(event.key === "Home" ? 0 : last());
  }
  else if (event.key === "?") $("shortcuts").showModal();
  else if (key === "k") addKey();
  else if (key === "e") setErase(!ui.erase);
  else if (event.key === "[") setSize(ui.size / 1.25);
  else if (event.key === "]") setSize(ui.size * 1.25);
  else if ("dpbs".includes(key) && key.length === 1) setTool({ d: "drag", p: "pin", b: "brush", s: "select" }[key]);
});

timeline.setup({ changed, committed, scrubbed: () => { syncVideo(); timeline.showFrame(); draw(); } });
setupPreview({ status });
setupPanels({ changed, committed, draw, setTool, setErase, setSize, schedulePreview, requestRegions });
jobs.setup();
setTool("drag");
changed();

// For scripts and tests: where an image pixel is on the canvas, the spec being edited, the layers.
window.motionkitEditor = {
  state, spec, layers, toCanvas: (x, y) => toCanvas({ x, y }), scale: () => view.scale, view, requestPreview,
};
