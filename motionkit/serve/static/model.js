// The document being edited, its MotionSpec form (both ways) and the undo history.
// Positions are image pixels (x, y); the spec's (u, v) has pixel centres: u = (x + 0.5) / W.

import { decode, encode, fillPolygons, maskSize, newLayer } from "./masks.js";

export const state = {
  asset: null,          // the uploaded image's (or video's) id
  video: null,          // {frames, fps, size} when a video is open (the picture is its frame 0)
  image: null,          // the picture drawn on (HTMLImageElement)
  tracks: [],           // [{keys: [{t, x, y, easing, extra}], extra}]; one key = a pin
  brushes: [],          // [{id, name, direction: [dx, dy], proximity, ambient, extra, encoded}]
  mask: { encoded: null },   // the region that may move (painted); encoded null = everything may move
  frames: 16,
  fps: 8,
  camera: { pan: [0, 0], zoom: 1, rotate: 0 },   // the camera at the last frame (from rest at frame 0)
  extra: {},            // parts of an imported spec the editor does not draw, kept on export
  selected: -1,         // selected track
  key: -1,              // selected keyframe of the selected track (its segment starts there)
  layer: null,          // the painted layer being edited: "mask" or a brush id
  frame: 0,             // the current frame (timeline playhead)
};

export const layers = new Map();   // layer id ("mask" or a brush id) -> canvas (alpha = value)
let nextBrush = 1;

export const last = () => state.frames - 1;
export const EASE = {
  linear: (s) => s, "ease-in": (s) => s ** 3, "ease-out": (s) => 1 - (1 - s) ** 3, "ease-in-out": (s) => s * s * (3 - 2 * s),
};

// Where a track is at frame f: straight between keys, eased per segment (the render's path is a
// monotone cubic through the same keys, so a bent multi-key path can differ a little).
export function positionAt(track, f) {
  const keys = track.keys;
  if (f <= keys[0].t || keys.length === 1) return { x: keys[0].x, y: keys[0].y };
  for (let i = 0; i < keys.length - 1; i++) {
    const a = keys[i], b = keys[i + 1];
    if (f <= b.t) {
      const s = (EASE[a.easing] || EASE.linear)((f - a.t) / (b.t - a.t));
      return { x: a.x + (b.x - a.x) * s, y: a.y + (b.y - a.y) * s };
    }
  }
  const end = keys[keys.length - 1];
  return { x: end.x, y: end.y };
}

export function layerOf(id) {
  if (!layers.has(id)) {
    const [h, w] = maskSize(state.image.naturalWidth, state.image.naturalHeight);
    layers.set(id, newLayer(h, w));
  }
  return layers.get(id);
}

export function addBrush(fields = {}) {
  const brush = { id: `b${nextBrush++}`, name: null, direction: [2, 0], proximity: 0, ambient: 0, extra: {}, encoded: null, ...fields };
  state.brushes.push(brush);
  return brush;
}

export const brushOf = (id) => state.brushes.find((b) => b.id === id);
export const painted = (encoded) => encoded && encoded.area > 0;

export function newDrag(start, end) {
  return { keys: [{ t: 0, ...start, easing: "linear", extra: {} }, { t: last(), ...end, easing: "linear", extra: {} }], extra: {} };
}

export const newPin = (p) => ({ keys: [{ t: 0, ...p, easing: "linear", extra: {} }], extra: {} });

const round = (value, digits = 4) => Number(value.toFixed(digits));

export function spec() {
  const W = state.image.naturalWidth, H = state.image.naturalHeight;
  const uv = (p) => ({ u: round((p.x + 0.5) / W, 6), v: round((p.y + 0.5) / H, 6) });
  const trajectories = state.tracks.map((track) => ({
    ...track.extra,
    keyframes: track.keys.map((k) => ({ ...k.extra, t: round(k.t, 3), ...uv(k), easing: k.easing })),
  }));
  const brushes = state.brushes.filter((b) => painted(b.encoded)).map((b) => ({
    ...b.extra, ...(b.name ? { name: b.name } : {}), region: { mask: b.encoded.mask },
    direction: b.direction.map((d) => round(d, 3)), proximity: round(b.proximity, 4), ambient: round(b.ambient, 3),
  }));
  const doc = { ...state.extra, spec_version: 1, frames: state.frames, fps: state.fps, reference_size: [H, W], trajectories, brushes };
  if (painted(state.mask.encoded)) doc.mask = { mask: state.mask.encoded.mask };
  if (cameraMoves()) {
    const { keys = {}, ...path } = state.extra.cameraPath || {};
    doc.camera = { ...path, keyframes: [{ ...keys, t: last(), pan: state.camera.pan, zoom: state.camera.zoom, rotate: state.camera.rotate }] };
  }
  delete doc.cameraPath;
  return doc;
}

export const cameraMoves = () =>
  state.camera.pan[0] !== 0 || state.camera.pan[1] !== 0 || state.camera.zoom !== 1 || state.camera.rotate !== 0;

// The layers of painted regions, read from spec regions (masks or polygons).
async function regionLayer(region) {
  const [h, w] = maskSize(state.image.naturalWidth, state.image.naturalHeight);
  if (region.mask) return decode(region.mask, h, w);
  const layer = newLayer(h, w);
  fillPolygons(layer, region.polygons);
  return layer;
}

export async function loadSpec(doc) {
  const W = state.image.naturalWidth, H = state.image.naturalHeight;
  const { spec_version, frames, fps, reference_size, trajectories = [], brushes = [], mask, ...extra } = doc;
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
  state.tracks = trajectories.map(({ keyframes, ...trackExtra }) => ({
    extra: trackExtra,
    keys: keyframes.map(({ t, u, v, easing = "linear", ...keyExtra }) => ({ t, x: u * W - 0.5, y: v * H - 0.5, easing, extra: keyExtra })),
  }));
  layers.clear();
  state.brushes = [];
  for (const { region, direction = [0, 0], proximity = 0, ambient = 0, name = null, ...brushExtra } of brushes) {
    const brush = addBrush({ name, direction, proximity, ambient, extra: brushExtra });
    layers.set(brush.id, await regionLayer(region));
    brush.encoded = await encode(layers.get(brush.id));
  }
  state.mask = { encoded: null };
  if (mask) {
    layers.set("mask", await regionLayer(mask));
    state.mask.encoded = await encode(layers.get("mask"));
  }
  state.selected = -1; state.key = -1; state.layer = null;
}

// Times of every key scaled to a new frame count (the shot keeps its timing).
export function retime(frames) {
  const k = (frames - 1) / last();
  for (const track of state.tracks) track.keys.forEach((key) => { key.t = round(key.t * k, 3); });
  state.frames = frames;
  state.frame = Math.min(state.frame, last());
}

// -- history: JSON snapshots; painted layers travel as their encoded masks ----------------------

const history = { list: [], at: -1 };
const snapshot = () => JSON.stringify({
  tracks: state.tracks, brushes: state.brushes, mask: state.mask, frames: state.frames, fps: state.fps,
  camera: state.camera, extra: state.extra,
});

export function commit() {
  history.list = history.list.slice(0, history.at + 1);
  history.list.push(snapshot());
  history.at = history.list.length - 1;
}

export function resetHistory() { history.list = []; history.at = -1; commit(); }

export const canUndo = () => history.at > 0;
export const canRedo = () => history.at < history.list.length - 1;
export const current = snapshot;

export async function restore(step) {
  const index = history.at + step;
  if (index < 0 || index >= history.list.length) return false;
  history.at = index;
  const before = new Map(state.brushes.map((b) => [b.id, b.encoded]));
  before.set("mask", state.mask.encoded);
  Object.assign(state, JSON.parse(history.list[index]));
  const [h, w] = maskSize(state.image.naturalWidth, state.image.naturalHeight);
  const wanted = [...state.brushes.map((b) => [b.id, b.encoded]), ["mask", state.mask.encoded]];
  for (const [id, encoded] of wanted) {
    if (before.get(id) === encoded || JSON.stringify(before.get(id)) === JSON.stringify(encoded)) continue;
    layers.set(id, encoded ? await decode(encoded.mask, h, w) : newLayer(h, w));
  }
  if (state.selected >= state.tracks.length) { state.selected = -1; state.key = -1; }
  if (state.layer && state.layer !== "mask" && !brushOf(state.layer)) state.layer = null;
  return true;
}
