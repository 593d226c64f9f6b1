// The preview: debounced calls to /api/preview (or /api/motion-preview for the motion's colours),
// at most one request in flight, only the newest answer shown; the video and the timeline's
// playhead follow each other. Also the object regions overlay (/api/regions).

import { postJSON } from "./api.js";
import { draw, view } from "./draw.js";
import { decodeValues } from "./masks.js";
import { cameraMoves, current, last, spec, state } from "./model.js";
import * as timeline from "./timeline.js";

const $ = (id) => document.getElementById(id);
const video = $("preview");
let timer = null, inFlight = false, again = false, shown = null;
let hooks = { status() {} };

export function schedulePreview() {
  clearTimeout(timer);
  timer = setTimeout(requestPreview, 250);
}

const hasMotion = () => state.tracks.length || state.brushes.some((b) => b.encoded && b.encoded.area > 0) || cameraMoves();

// On a video, the video plays until "Spec on frame 0" asks for the spec's preview instead.
const wanted = () => !state.video || $("preview-spec").checked || $("show-motion").checked;

export async function requestPreview() {
  if (!state.asset || !hasMotion() || !wanted()) return;
  if (inFlight) { again = true; return; }
  inFlight = true;
  const asked = current(), started = performance.now();
  const route = $("show-motion").checked ? "/api/motion-preview" : "/api/preview";
  try {
    const answer = await postJSON(route, { asset: state.asset, spec: spec(), long_side: Number($("long-side").value) });
    const blob = await answer.blob();
    if (shown) URL.revokeObjectURL(shown);
    shown = URL.createObjectURL(blob);
    show(shown);
    video.dataset.spec = asked;
    video.dataset.route = route;
    $("preview-title").textContent = route === "/api/preview" ? "Preview" : "Preview: the motion's colours";
    $("latency").textContent = `${Math.round(performance.now() - started)} ms`;
    hooks.status("Preview up to date.");
    if ($("show-regions").checked) requestRegions();
  } catch (error) {
    hooks.status(`Preview: ${error.message}`, true);
  } finally {
    inFlight = false;
    if (again || asked !== current()) { again = false; requestPreview(); }
  }
}

// -- the playhead and the video -------------------------------------------------------------------

let following = false;
let held = false;   // the user scrubbed or paused: a new preview waits at the playhead's frame

const seek = () => { video.currentTime = Math.min(Math.max(0, video.duration - 1e-3), (state.frame + 0.5) / state.fps); };

// Show a video (a preview, the opened video, a translation): it plays, unless the user holds a frame.
export function show(url, kind = "preview") {
  video.src = url;
  video.dataset.kind = kind;   // "source": the opened video itself, drawn on the stage as it plays
  video.addEventListener("loadeddata", () => { if (held) seek(); else video.play().catch(() => {}); }, { once: true });
}

export function syncVideo() {
  held = true;
  if (!video.src || !video.duration) return;
  video.pause();
  following = false;
  $("play").textContent = "▶";
  seek();
}

export function togglePlay() {
  if (!video.src) return;
  if (video.paused) { held = false; video.play(); } else { held = true; video.pause(); }
}

function follow() {
  if (!following) return;
  const f = Math.min(last(), Math.floor(video.currentTime * state.fps));
  if (f !== state.frame) { state.frame = f; timeline.showFrame(); draw(); }
  requestAnimationFrame(follow);
}

video.addEventListener("play", () => { following = true; $("play").textContent = "❚❚"; requestAnimationFrame(follow); });
video.addEventListener("seeked", () => { if (video.dataset.kind === "source") draw(); });
video.addEventListener("pause", () => { following = false; $("play").textContent = "▶"; });

// -- object regions: the densifier's grouping of the tracks, drawn over the picture -------------

const REGION_COLOURS = [[255, 176, 0], [79, 195, 247], [129, 199, 132], [240, 98, 146], [186, 104, 200], [255, 241, 118]];

export async function requestRegions() {
  if (!$("show-regions").checked || !state.asset || !state.tracks.length) { view.regionLayers = []; draw(); return; }
  try {
    const answer = await (await postJSON("/api/regions", { asset: state.asset, spec: spec(), long_side: 256 })).json();
    const found = [];
    for (const [i, region] of answer.regions.entries()) {
      const { size: [h, w] } = region.region.mask;
      const values = await decodeValues(region.region.mask);
      const layer = new OffscreenCanvas(w, h);
      const pixels = new ImageData(w, h);
      const [r, g, b] = REGION_COLOURS[i % REGION_COLOURS.length];
      values.forEach((v, k) => pixels.data.set([r, g, b, Math.round(110 * v)], 4 * k));
      layer.getContext("2d").putImageData(pixels, 0, 0);
      found.push(layer);
    }
    view.regionLayers = found;
    $("regions-info").textContent = answer.regions.map((r, i) => `region ${i + 1}: tracks ${r.tracks.map((t) => t + 1).join(", ")}`).join("; ");
  } catch (error) {
    view.regionLayers = [];
    $("regions-info").textContent = `regions: ${error.message}`;
  }
  draw();
}

export function setupPreview(callbacks) {
  hooks = callbacks;
  $("long-side").addEventListener("change", schedulePreview);
  $("show-motion").addEventListener("change", schedulePreview);
  $("preview-spec").addEventListener("change", () => {
    if (wanted()) schedulePreview();
    else if (state.video) { show(state.video.url, "source"); $("preview-title").textContent = "The video"; }
  });
  $("show-regions").addEventListener("change", requestRegions);
}
