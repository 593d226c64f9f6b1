// motionkit's browser motion editor: open an image, draw drags and pins, watch the preview, render.
// Plain modern JavaScript, no build step. Talks to the service's /api routes (see /docs for the API).

const $ = (id) => document.getElementById(id);
const canvas = $("canvas");
const ctx = canvas.getContext("2d");
const params = new URLSearchParams(location.search);
const token = params.get("token") || localStorage.getItem("motionkit-token") || "";
if (params.get("token")) localStorage.setItem("motionkit-token", token);

const state = {
  asset: null,          // the uploaded image's id
  image: null,          // HTMLImageElement
  tracks: [],           // [{points: [{x, y}] in image pixels, easing}]; one point = a pin
  frames: 16,
  fps: 8,
  camera: { pan: [0, 0], zoom: 1, rotate: 0 },   // the camera at the last frame (from rest at frame 0)
  extra: {},            // parts of an imported spec the editor does not draw (brushes, camera, ...), kept on export
  selected: -1,
  tool: "drag",
};
let scale = 1;          // canvas pixels per image pixel
let history = [];
let at = -1;

// -- the API ------------------------------------------------------------------------------------

function withToken(url) {
  return token ? `${url}${url.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}` : url;
}

async function api(route, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  const answer = await fetch(route, { ...options, headers });
  if (!answer.ok) {
    let message = `${answer.status}`;
    try { message = (await answer.json()).error || message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return answer;
}

const postJSON = (route, body) =>
  api(route, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

function status(text, isError = false) {
  $("status").textContent = text;
  $("status").style.color = isError ? "#ff6b6b" : "";
}

// -- the spec -----------------------------------------------------------------------------------

function spec() {
  const W = state.image.naturalWidth, H = state.image.naturalHeight;
  const last = state.frames - 1;
  const uv = (p) => ({ u: (p.x + 0.5) / W, v: (p.y + 0.5) / H });
  const trajectories = state.tracks.map((track) => ({
    keyframes: track.points.length === 1
      ? [{ t: 0, ...uv(track.points[0]) }]
      : track.points.map((p, i) => ({ t: (i * last) / (track.points.length - 1), ...uv(p), easing: track.easing })),
  }));
  const doc = { ...state.extra, spec_version: 1, frames: state.frames, fps: state.fps, reference_size: [H, W], trajectories };
  if (cameraMoves()) {
    const { keys = {}, ...path } = state.extra.cameraPath || {};
    doc.camera = { ...path, keyframes: [{ ...keys, t: last, pan: state.camera.pan, zoom: state.camera.zoom, rotate: state.camera.rotate }] };
  }
  delete doc.cameraPath;
  return doc;
}

const cameraMoves = () => state.camera.pan[0] !== 0 || state.camera.pan[1] !== 0 || state.camera.zoom !== 1 || state.camera.rotate !== 0;

function loadSpec(doc) {
  const W = state.image.naturalWidth, H = state.image.naturalHeight;
  const { spec_version, frames, fps, reference_size, trajectories = [], ...extra } = doc;
  if (spec_version !== 1) throw new Error(`spec_version ${spec_version} is not one this editor reads`);
  state.frames = frames; state.fps = fps ?? 8;
  state.camera = { pan: [0, 0], zoom: 1, rotate: 0 };
  if (extra.camera) {
    // the sliders show the path's last key; its other moves and settings ride along unchanged
    const { keyframes, ...path } = extra.camera;
    const { t, pan = [0, 0], zoom = 1, rotate = 0, ...keys } = keyframes[keyframes.length - 1];
    state.camera = { pan, zoom, rotate };
    extra.cameraPath = { ...path, keys };
    delete extra.camera;
  }
  state.extra = extra;
  state.tracks = trajectories.map((track) => ({
    points: track.keyframes.map((k) => ({ x: k.u * W - 0.5, y: k.v * H - 0.5 })),
    easing: track.keyframes[0].easing || "linear",
  }));
  state.selected = -1;
}

// -- history ------------------------------------------------------------------------------------

const snapshot = () => JSON.stringify({ tracks: state.tracks, frames: state.frames, fps: state.fps, camera: state.camera, extra: state.extra });

function commit() {
  history = history.slice(0, at + 1);
  history.push(snapshot());
  at = history.length - 1;
  changed();
}

function restore(index) {
  if (index < 0 || index >= history.length) return;
  at = index;
  Object.assign(state, JSON.parse(history[at]));
  if (state.selected >= state.tracks.length) state.selected = -1;
  changed();
}

// -- drawing ------------------------------------------------------------------------------------

function fit() {
  const W = state.image.naturalWidth, H = state.image.naturalHeight;
  const room = canvas.parentElement.clientWidth - 16;
  scale = Math.min(room / W, 620 / H, 3);
  canvas.width = Math.round(W * scale);
  canvas.height = Math.round(H * scale);
}

const toCanvas = (p) => ({ x: (p.x + 0.5) * scale, y: (p.y + 0.5) * scale });
const toImage = (event) => {
  const box = canvas.getBoundingClientRect();
  const k = canvas.width / box.width;
  return { x: ((event.clientX - box.left) * k) / scale - 0.5, y: ((event.clientY - box.top) * k) / scale - 0.5 };
};

function arrow(points, colour, width) {
  const c = points.map(toCanvas);
  ctx.strokeStyle = ctx.fillStyle = colour;
  ctx.lineWidth = width;
  ctx.beginPath();
  c.forEach((p, i) => (i ? ctx.lineTo(p.x, p.y) : ctx.moveTo(p.x, p.y)));
  ctx.stroke();
  const a = c[c.length - 2], b = c[c.length - 1];
  const angle = Math.atan2(b.y - a.y, b.x - a.x), head = 6 + 2 * width;
  ctx.beginPath();
  ctx.moveTo(b.x, b.y);
  ctx.lineTo(b.x - head * Math.cos(angle - 0.45), b.y - head * Math.sin(angle - 0.45));
  ctx.lineTo(b.x - head * Math.cos(angle + 0.45), b.y - head * Math.sin(angle + 0.45));
  ctx.fill();
  for (const p of c) { ctx.beginPath(); ctx.arc(p.x, p.y, 3.5, 0, 2 * Math.PI); ctx.fill(); }
}

function pin(point, colour) {
  const p = toCanvas(point);
  ctx.strokeStyle = colour; ctx.lineWidth = 2.5;
  ctx.beginPath(); ctx.arc(p.x, p.y, 7, 0, 2 * Math.PI); ctx.stroke();
  ctx.beginPath(); ctx.moveTo(p.x - 4, p.y); ctx.lineTo(p.x + 4, p.y); ctx.moveTo(p.x, p.y - 4); ctx.lineTo(p.x, p.y + 4); ctx.stroke();
}

function draw(pending = null) {
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!state.image) return;
  ctx.drawImage(state.image, 0, 0, canvas.width, canvas.height);
  state.tracks.forEach((track, i) => {
    const colour = i === state.selected ? "#ffffff" : "#ffb000";
    ctx.shadowColor = "rgba(0,0,0,.8)"; ctx.shadowBlur = 3;
    track.points.length === 1 ? pin(track.points[0], "#4fc3f7") : arrow(track.points, colour, i === state.selected ? 3.5 : 2.5);
  });
  for (const layer of regionLayers) ctx.drawImage(layer, 0, 0, canvas.width, canvas.height);
  if (pending) arrow(pending, "rgba(255,176,0,.6)", 2);
  ctx.shadowBlur = 0;
}

function changed() {
  $("frames").value = state.frames; $("fps").value = state.fps;
  showCamera();
  const track = state.tracks[state.selected];
  $("easing").disabled = !track || track.points.length === 1;
  if (track) $("easing").value = track.easing;
  $("track-info").textContent = track
    ? `${track.points.length === 1 ? "pin" : "drag"} ${state.selected + 1} of ${state.tracks.length}: ` +
      track.points.map((p) => `(${p.x.toFixed(0)}, ${p.y.toFixed(0)})`).join(" → ")
    : `none (${state.tracks.length} tracks)`;
  $("undo").disabled = at <= 0; $("redo").disabled = at >= history.length - 1;
  $("delete").disabled = !track;
  draw();
  schedulePreview();
}

// -- pointer tools ------------------------------------------------------------------------------

let gesture = null;

function nearest(p) {
  let best = null, limit = 10 / scale;
  state.tracks.forEach((track, t) => track.points.forEach((q, k) => {
    const d = Math.hypot(q.x - p.x, q.y - p.y);
    if (d < limit) { limit = d; best = { t, k }; }
  }));
  return best;
}

canvas.addEventListener("pointerdown", (event) => {
  if (!state.image) return;
  canvas.setPointerCapture(event.pointerId);
  const p = toImage(event);
  const hit = nearest(p);
  if (state.tool === "select" || (hit && event.altKey)) {
    state.selected = hit ? hit.t : -1;
    gesture = hit ? { kind: "move", ...hit } : null;
    changed();
  } else if (state.tool === "pin") {
    state.tracks.push({ points: [p], easing: "linear" });
    state.selected = state.tracks.length - 1;
    commit();
  } else {
    gesture = { kind: "drag", start: p, end: p };
  }
});

canvas.addEventListener("pointermove", (event) => {
  if (!gesture) return;
  const p = toImage(event);
  if (gesture.kind === "drag") { gesture.end = p; draw([gesture.start, p]); }
  else { state.tracks[gesture.t].points[gesture.k] = p; draw(); }
});

canvas.addEventListener("pointerup", (event) => {
  if (!gesture) return;
  const done = gesture; gesture = null;
  if (done.kind === "drag") {
    const end = toImage(event);
    if (Math.hypot(end.x - done.start.x, end.y - done.start.y) * scale < 4) { draw(); return; }
    state.tracks.push({ points: [done.start, end], easing: "linear" });
    state.selected = state.tracks.length - 1;
  }
  commit();
});

function setTool(tool) {
  state.tool = tool;
  for (const name of ["drag", "pin", "select"]) $(`tool-${name}`).classList.toggle("active", name === tool);
}

function deleteSelected() {
  if (state.selected < 0) return;
  state.tracks.splice(state.selected, 1);
  state.selected = -1;
  commit();
}

// -- preview: debounced, at most one request in flight, only the newest answer shown ------------

let timer = null, inFlight = false, again = false, shown = null;

function schedulePreview() {
  clearTimeout(timer);
  timer = setTimeout(requestPreview, 250);
}

async function requestPreview() {
  if (!state.asset || !(state.tracks.length || cameraMoves())) return;
  if (inFlight) { again = true; return; }
  inFlight = true;
  const asked = snapshot(), started = performance.now();
  try {
    const answer = await postJSON("/api/preview", { asset: state.asset, spec: spec(), long_side: Number($("long-side").value) });
    const blob = await answer.blob();
    if (shown) URL.revokeObjectURL(shown);
    shown = URL.createObjectURL(blob);
    $("preview").src = shown;
    $("preview").dataset.spec = asked;
    $("latency").textContent = `preview in ${Math.round(performance.now() - started)} ms`;
    status("Preview up to date.");
    if ($("show-regions").checked) requestRegions();
  } catch (error) {
    status(`Preview: ${error.message}`, true);
  } finally {
    inFlight = false;
    if (again || asked !== snapshot()) { again = false; requestPreview(); }
  }
}

// -- object regions: the densifier's grouping of the tracks, drawn over the picture -------------

let regionLayers = [];
const REGION_COLOURS = [[255, 176, 0], [79, 195, 247], [129, 199, 132], [240, 98, 146], [186, 104, 200], [255, 241, 118]];

async function decodeMask(mask) {
  // {size: [h, w], encoding: "zlib-float32-le", data: base64} -> Float32Array of h * w values in [0, 1]
  const bytes = Uint8Array.from(atob(mask.data), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Float32Array(await new Response(stream).arrayBuffer());
}

async function requestRegions() {
  if (!$("show-regions").checked || !state.asset || !state.tracks.length) { regionLayers = []; draw(); return; }
  try {
    const answer = await (await postJSON("/api/regions", { asset: state.asset, spec: spec(), long_side: 256 })).json();
    const layers = [];
    for (const [i, found] of answer.regions.entries()) {
      const { size: [h, w] } = found.region.mask;
      const values = await decodeMask(found.region.mask);
      const layer = new OffscreenCanvas(w, h);
      const pixels = new ImageData(w, h);
      const [r, g, b] = REGION_COLOURS[i % REGION_COLOURS.length];
      values.forEach((v, k) => pixels.data.set([r, g, b, Math.round(110 * v)], 4 * k));
      layer.getContext("2d").putImageData(pixels, 0, 0);
      layers.push(layer);
    }
    regionLayers = layers;
    $("regions-info").textContent = answer.regions.map((found, i) => `region ${i + 1}: tracks ${found.tracks.map((t) => t + 1).join(", ")}`).join("; ");
  } catch (error) {
    regionLayers = [];
    $("regions-info").textContent = `regions: ${error.message}`;
  }
  draw();
}

// -- render -------------------------------------------------------------------------------------

async function render() {
  $("render").disabled = true; $("download").hidden = true; $("progress").value = 0;
  try {
    const { id } = await (await postJSON("/api/jobs", { kind: "animate", asset: state.asset, spec: spec() })).json();
    status(`Rendering (job ${id.slice(0, 8)})…`);
    const events = new EventSource(withToken(`/api/jobs/${id}/events`));
    events.onmessage = (message) => {
      const job = JSON.parse(message.data);
      $("progress").value = job.progress;
      if (job.state === "done") {
        events.close();
        $("download").href = withToken(`/api/jobs/${id}/result`);
        $("download").download = "motionkit.mp4";
        $("download").hidden = false;
        $("render").disabled = false;
        status("Rendered.");
      } else if (job.state === "failed" || job.state === "cancelled") {
        events.close();
        $("render").disabled = false;
        status(`Render ${job.state}: ${job.error}`, true);
      }
    };
  } catch (error) {
    $("render").disabled = false;
    status(`Render: ${error.message}`, true);
  }
}

// -- files --------------------------------------------------------------------------------------

async function openImage(file) {
  status("Uploading…");
  try {
    const form = new FormData();
    form.append("file", file);
    const { id } = await (await api("/api/assets", { method: "POST", body: form })).json();
    const image = new Image();
    image.src = URL.createObjectURL(file);
    await image.decode();
    Object.assign(state, { asset: id, image, tracks: [], selected: -1, extra: {}, camera: { pan: [0, 0], zoom: 1, rotate: 0 } });
    fit();
    history = []; at = -1; commit();
    $("render").disabled = false;
    status(`Opened ${file.name} (${image.naturalWidth} × ${image.naturalHeight}). Drag on the picture.`);
  } catch (error) {
    status(`Open: ${error.message}`, true);
  }
}

$("open").addEventListener("change", (event) => event.target.files[0] && openImage(event.target.files[0]));
$("import").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  if (!state.image) { status("Open the image first, then import its spec.", true); return; }
  try { loadSpec(JSON.parse(await file.text())); commit(); status(`Imported ${file.name}.`); }
  catch (error) { status(`Import: ${error.message}`, true); }
  event.target.value = "";
});
$("export").addEventListener("click", () => {
  if (!state.image) return;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([JSON.stringify(spec(), null, 1)], { type: "application/json" }));
  link.download = "motion_spec.json";
  link.click();
});
$("frames").addEventListener("change", (e) => { state.frames = Math.max(2, Math.min(64, Number(e.target.value) || 16)); commit(); });
$("fps").addEventListener("change", (e) => { state.fps = Math.max(1, Number(e.target.value) || 8); commit(); });
$("long-side").addEventListener("change", schedulePreview);
$("show-regions").addEventListener("change", requestRegions);
$("easing").addEventListener("change", (e) => { if (state.selected >= 0) { state.tracks[state.selected].easing = e.target.value; commit(); } });
const cameraInputs = { "cam-pan-u": ["pan", 0], "cam-pan-v": ["pan", 1], "cam-zoom": ["zoom"], "cam-rotate": ["rotate"] };

function showCamera() {
  for (const [id, [name, i]] of Object.entries(cameraInputs)) {
    const value = i === undefined ? state.camera[name] : state.camera[name][i];
    $(id).value = value; $(`${id}-value`).textContent = Number(value).toFixed(name === "rotate" ? 1 : 2);
  }
}

for (const [id, [name, i]] of Object.entries(cameraInputs)) {
  $(id).addEventListener("input", (e) => {
    const value = Number(e.target.value);
    if (i === undefined) state.camera[name] = value; else state.camera[name] = state.camera[name].map((v, k) => (k === i ? value : v));
    showCamera();
    schedulePreview();
  });
  $(id).addEventListener("change", commit);
  $(id).addEventListener("dblclick", () => { state.camera = { pan: [0, 0], zoom: 1, rotate: 0 }; commit(); });
}

$("undo").addEventListener("click", () => restore(at - 1));
$("redo").addEventListener("click", () => restore(at + 1));
$("delete").addEventListener("click", deleteSelected);
$("render").addEventListener("click", render);
for (const name of ["drag", "pin", "select"]) $(`tool-${name}`).addEventListener("click", () => setTool(name));
window.addEventListener("resize", () => { if (state.image) { fit(); draw(); } });

document.addEventListener("keydown", (event) => {
  if (event.target.matches("input, select")) return;
  const mod = event.ctrlKey || event.metaKey;
  if (mod && event.key.toLowerCase() === "z") { event.preventDefault(); restore(event.shiftKey ? at + 1 : at - 1); }
  else if (mod && event.key.toLowerCase() === "y") { event.preventDefault(); restore(at + 1); }
  else if (event.key === "Delete" || event.key === "Backspace") deleteSelected();
  else if (!mod && "dps".includes(event.key.toLowerCase())) setTool({ d: "drag", p: "pin", s: "select" }[event.key.toLowerCase()]);
});

// For scripts and tests: where an image pixel is on the canvas, and the spec being edited.
window.motionkitEditor = { state, spec, toCanvas: (x, y) => toCanvas({ x, y }), scale: () => scale };
