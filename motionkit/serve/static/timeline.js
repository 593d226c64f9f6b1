// The timeline: a row per track, its keyframes as diamonds at their frames (drag one to retime
// it; the first key is the reference frame and stays at 0), its segments coloured by easing
// (click one to select it), and the playhead (drag the ruler to scrub the preview).

import { last, state } from "./model.js";

const $ = (id) => document.getElementById(id);
const root = $("timeline");
const rows = $("tl-rows");
const ruler = $("tl-ruler");
let hooks = { changed() {}, committed() {}, scrubbed() {} };

export function setup(callbacks) { hooks = callbacks; }

const percent = (t) => `${(100 * t) / Math.max(1, last())}%`;

function timeAt(event, lane, whole) {
  const box = lane.getBoundingClientRect();
  const t = ((event.clientX - box.left) / box.width) * last();
  return whole ? Math.round(t) : Math.round(t * 4) / 4;
}

function drawRuler() {
  ruler.replaceChildren();
  const step = last() > 40 ? 5 : last() > 16 ? 2 : 1;
  for (let f = 0; f <= last(); f += step) {
    const tick = document.createElement("span");
    tick.className = "tick";
    tick.style.left = percent(f);
    if (f % (step * 2) === 0 || last() <= 16) {
      const label = document.createElement("span");
      label.textContent = f;
      tick.append(label);
    }
    ruler.append(tick);
  }
  const head = document.createElement("span");
  head.id = "tl-playhead";
  head.style.left = percent(state.frame);
  ruler.append(head);
}

export function showFrame() {
  const head = $("tl-playhead");
  if (head) head.style.left = percent(state.frame);
  $("tl-cursor").style.left = `calc(${percent(state.frame)})`;
  $("tl-frame").textContent = `frame ${state.frame.toFixed(state.frame % 1 ? 1 : 0)} / ${last()}`;
}

export function render() {
  drawRuler();
  rows.replaceChildren();
  if (!state.tracks.length) {
    const empty = document.createElement("p");
    empty.className = "note tl-empty";
    empty.textContent = "Drags and pins appear here as rows. Drag a keyframe to retime it; K adds one at the playhead.";
    rows.append(empty);
  }
  state.tracks.forEach((track, i) => {
    const row = document.createElement("div");
    row.className = `tl-row${i === state.selected ? " selected" : ""}`;
    const label = document.createElement("button");
    label.className = "tl-label";
    label.textContent = `${track.keys.length === 1 ? "◎ pin" : "➜ drag"} ${i + 1}`;
    label.title = track.extra.name || "select this track";
    label.addEventListener("click", () => { state.selected = i; state.key = -1; hooks.changed(); });
    const lane = document.createElement("div");
    lane.className = "tl-lane";
    if (track.keys.length === 1) {
      const hold = document.createElement("span");
      hold.className = "tl-hold";
      lane.append(hold);
    }
    track.keys.slice(0, -1).forEach((key, k) => {
      const segment = document.createElement("span");
      segment.className = `tl-seg ease-${key.easing}${i === state.selected && k === state.key ? " selected" : ""}`;
      segment.style.left = percent(key.t);
      segment.style.width = `calc(${percent(track.keys[k + 1].t)} - ${percent(key.t)})`;
      segment.title = `${key.easing} from frame ${key.t} to ${track.keys[k + 1].t} (click to select)`;
      segment.textContent = key.easing === "linear" ? "" : key.easing;
      segment.addEventListener("pointerdown", (event) => {
        event.stopPropagation();
        state.selected = i; state.key = k; hooks.changed();
      });
      lane.append(segment);
    });
    track.keys.forEach((key, k) => lane.append(diamond(track, i, key, k, lane)));
    row.append(label, lane);
    rows.append(row);
  });
  showFrame();
}

function diamond(track, i, key, k, lane) {
  const mark = document.createElement("span");
  mark.className = `tl-key${k === 0 ? " locked" : ""}${i === state.selected && k === state.key ? " selected" : ""}`;
  mark.style.left = percent(key.t);
  mark.dataset.track = i; mark.dataset.key = k;
  mark.title = k === 0 ? "the reference frame (frame 0)" : `frame ${key.t}: drag to retime (Shift: quarter frames)`;
  mark.addEventListener("pointerdown", (event) => {
    event.stopPropagation();
    state.selected = i; state.key = k;
    if (k === 0) { hooks.changed(); return; }
    mark.setPointerCapture(event.pointerId);
    const before = key.t;
    const move = (e) => {
      const low = track.keys[k - 1].t + (e.shiftKey ? 0.25 : 1);
      const high = k + 1 < track.keys.length ? track.keys[k + 1].t - (e.shiftKey ? 0.25 : 1) : last();
      key.t = Math.min(high, Math.max(low, timeAt(e, lane, !e.shiftKey)));
      mark.style.left = percent(key.t);
      state.frame = key.t;
      hooks.scrubbed();
    };
    const up = () => {
      mark.removeEventListener("pointermove", move);
      mark.removeEventListener("pointerup", up);
      if (key.t !== before) hooks.committed(); else hooks.changed();
    };
    mark.addEventListener("pointermove", move);
    mark.addEventListener("pointerup", up);
  });
  return mark;
}

// Scrub: pointer on the ruler (or an empty part of a lane) moves the playhead.
function scrub(event) {
  const lane = ruler;
  const move = (e) => { state.frame = Math.min(last(), Math.max(0, timeAt(e, lane, true))); hooks.scrubbed(); };
  move(event);
  ruler.setPointerCapture(event.pointerId);
  const up = () => { ruler.removeEventListener("pointermove", move); ruler.removeEventListener("pointerup", up); };
  ruler.addEventListener("pointermove", move);
  ruler.addEventListener("pointerup", up);
}

ruler.addEventListener("pointerdown", scrub);
root.addEventListener("wheel", (event) => {
  if (!state.image) return;
  event.preventDefault();
  state.frame = Math.min(last(), Math.max(0, Math.round(state.frame) + Math.sign(event.deltaY)));
  hooks.scrubbed();
}, { passive: false });
