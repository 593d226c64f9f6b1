// The stage: the picture, the painted layers as translucent overlays, the tracks, the current
// frame's positions, the object regions and the adherence report, drawn on one canvas.

import { outside, tint } from "./masks.js";
import { brushOf, last, layers, painted, positionAt, state } from "./model.js";

export const canvas = document.getElementById("canvas");
const ctx = canvas.getContext("2d");
export const view = { scale: 1, regionLayers: [], report: null, cursor: null, pending: null };

export const BRUSH_COLOURS = [[79, 195, 247], [129, 199, 132], [240, 98, 146], [186, 104, 200], [255, 241, 118], [255, 138, 101]];
export const brushColour = (brush) => BRUSH_COLOURS[(Number(brush.id.slice(1)) - 1) % BRUSH_COLOURS.length];

export function fit() {
  const W = state.image.naturalWidth, H = state.image.naturalHeight;
  const room = canvas.parentElement.clientWidth - 24;
  const below = document.getElementById("timeline").offsetHeight + 40;
  const height = Math.max(240, window.innerHeight - canvas.parentElement.getBoundingClientRect().top - below - 24);
  view.scale = Math.min(room / W, height / H, 3);
  canvas.width = Math.round(W * view.scale);
  canvas.height = Math.round(H * view.scale);
}

export const toCanvas = (p) => ({ x: (p.x + 0.5) * view.scale, y: (p.y + 0.5) * view.scale });
export function toImage(event) {
  const box = canvas.getBoundingClientRect();
  const k = canvas.width / box.width;
  return { x: ((event.clientX - box.left) * k) / view.scale - 0.5, y: ((event.clientY - box.top) * k) / view.scale - 0.5 };
}

function arrowHead(a, b, size) {
  const angle = Math.atan2(b.y - a.y, b.x - a.x);
  ctx.beginPath();
  ctx.moveTo(b.x, b.y);
  ctx.lineTo(b.x - size * Math.cos(angle - 0.45), b.y - size * Math.sin(angle - 0.45));
  ctx.lineTo(b.x - size * Math.cos(angle + 0.45), b.y - size * Math.sin(angle + 0.45));
  ctx.fill();
}

function arrow(points, colour, width, keys = null, selectedKey = -1) {
  const c = points.map(toCanvas);
  ctx.strokeStyle = ctx.fillStyle = colour;
  ctx.lineWidth = width;
  ctx.beginPath();
  c.forEach((p, i) => (i ? ctx.lineTo(p.x, p.y) : ctx.moveTo(p.x, p.y)));
  ctx.stroke();
  arrowHead(c[c.length - 2], c[c.length - 1], 6 + 2 * width);
  c.forEach((p, i) => {
    ctx.beginPath();
    if (i === selectedKey) { ctx.rect(p.x - 5, p.y - 5, 10, 10); ctx.fill(); } else { ctx.arc(p.x, p.y, 3.5, 0, 2 * Math.PI); ctx.fill(); }
    if (keys && i > 0 && i < c.length - 1) { ctx.font = "11px system-ui"; ctx.fillText(`f${keys[i].t.toFixed(0)}`, p.x + 6, p.y - 6); }
  });
}

function pin(point, colour) {
  const p = toCanvas(point);
  ctx.strokeStyle = colour; ctx.lineWidth = 2.5;
  ctx.beginPath(); ctx.arc(p.x, p.y, 7, 0, 2 * Math.PI); ctx.stroke();
  ctx.beginPath(); ctx.moveTo(p.x - 4, p.y); ctx.lineTo(p.x + 4, p.y); ctx.moveTo(p.x, p.y - 4); ctx.lineTo(p.x, p.y + 4); ctx.stroke();
}

function overlays() {
  const maskLayer = layers.get("mask");
  if (maskLayer && painted(state.mask.encoded)) {
    ctx.drawImage(outside(maskLayer, state.layer === "mask" ? 0.6 : 0.42), 0, 0, canvas.width, canvas.height);
  }
  for (const brush of state.brushes) {
    const layer = layers.get(brush.id);
    if (!layer) continue;
    ctx.drawImage(tint(layer, brushColour(brush), state.layer === brush.id ? 0.45 : 0.3), 0, 0, canvas.width, canvas.height);
  }
}

// A brush's direction as an arrow from its centre (its travel over the shot), with its settings.
function brushGlyph(brush) {
  const centre = brush.encoded && brush.encoded.centre;
  if (!centre) return;
  const W = state.image.naturalWidth, H = state.image.naturalHeight;
  const c = toCanvas({ x: centre.u * W - 0.5, y: centre.v * H - 0.5 });
  const [dx, dy] = brush.direction;
  const colour = `rgb(${brushColour(brush).join(",")})`;
  ctx.strokeStyle = ctx.fillStyle = colour;
  ctx.lineWidth = 2.5;
  if (Math.hypot(dx, dy) > 0) {
    // the travel of the brush's content over the shot
    const e = { x: c.x + dx * last() * view.scale, y: c.y + dy * last() * view.scale };
    ctx.lineWidth = 3;
    ctx.beginPath(); ctx.moveTo(c.x, c.y); ctx.lineTo(e.x, e.y); ctx.stroke();
    arrowHead(c, e, 12);
    ctx.beginPath(); ctx.arc(c.x, c.y, 4, 0, 2 * Math.PI); ctx.fill();
  }
  const parts = [brush.name || `brush ${brush.id.slice(1)}`];
  if (brush.proximity) parts.push(`${brush.proximity > 0 ? "nearer" : "farther"} ${Math.abs(brush.proximity).toFixed(3)}`);
  if (brush.ambient) parts.push(`~${brush.ambient.toFixed(1)} px`);
  ctx.font = "600 12px system-ui";
  ctx.fillText(parts.join(" · "), c.x - 20, c.y + 24);
}

// The report overlay: each track's requested end (ring) and achieved end (cross), joined.
function reportOverlay() {
  const report = view.report;
  if (!report || !view.reportShown) return;
  const [h, w] = report.size;
  const kx = state.image.naturalWidth / w, ky = state.image.naturalHeight / h;
  for (const track of report.tracks) {
    const want = toCanvas({ x: track.requested[0] * kx, y: track.requested[1] * ky });
    const got = toCanvas({ x: track.achieved[0] * kx, y: track.achieved[1] * ky });
    const colour = track.final_epe < 2 ? "#66e08a" : track.final_epe < 5 ? "#ffb000" : "#ff6b6b";
    ctx.strokeStyle = ctx.fillStyle = colour;
    ctx.lineWidth = 2;
    ctx.setLineDash([3, 3]);
    ctx.beginPath(); ctx.moveTo(want.x, want.y); ctx.lineTo(got.x, got.y); ctx.stroke();
    ctx.setLineDash([]);
    ctx.beginPath(); ctx.arc(want.x, want.y, 9, 0, 2 * Math.PI); ctx.stroke();
    ctx.lineWidth = 3;
    ctx.beginPath(); ctx.moveTo(got.x - 6, got.y - 6); ctx.lineTo(got.x + 6, got.y + 6); ctx.moveTo(got.x + 6, got.y - 6); ctx.lineTo(got.x - 6, got.y + 6); ctx.stroke();
    ctx.font = "600 12px system-ui";
    ctx.fillText(`${track.index + 1}: ${track.final_epe.toFixed(1)} px`, want.x + 12, want.y - 10);
  }
}

export function draw() {
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!state.image) return;
  // on a video, the stage shows the frame at the playhead (the picture itself at frame 0)
  const source = document.getElementById("preview");
  const frame = state.video && state.frame > 0 && source.dataset.kind === "source" && source.readyState >= 2;
  ctx.drawImage(frame ? source : state.image, 0, 0, canvas.width, canvas.height);
  overlays();
  for (const layer of view.regionLayers) ctx.drawImage(layer, 0, 0, canvas.width, canvas.height);
  ctx.shadowColor = "rgba(0,0,0,.85)"; ctx.shadowBlur = 3;
  for (const brush of state.brushes) brushGlyph(brush);
  state.tracks.forEach((track, i) => {
    const selected = i === state.selected;
    if (track.keys.length === 1) pin(track.keys[0], selected ? "#ffffff" : "#4fc3f7");
    else arrow(track.keys, selected ? "#ffffff" : "#ffb000", selected ? 3.5 : 2.5, track.keys, selected ? state.key : -1);
  });
  // where each drag is at the current frame
  if (state.frame > 0) {
    for (const track of state.tracks) {
      if (track.keys.length === 1) continue;
      const p = toCanvas(positionAt(track, state.frame));
      ctx.fillStyle = "#ff4fa3"; ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.arc(p.x, p.y, 5.5, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
    }
  }
  reportOverlay();
  if (view.pending) arrow(view.pending, "rgba(255,176,0,.6)", 2);
  ctx.shadowBlur = 0;
  if (view.cursor) {
    ctx.strokeStyle = view.cursor.erase ? "#ff6b6b" : "#ffffff"; ctx.lineWidth = 1.5;
    ctx.setLineDash(view.cursor.erase ? [4, 3] : []);
    const p = toCanvas(view.cursor);
    ctx.beginPath(); ctx.arc(p.x, p.y, (view.cursor.size / 2) * view.scale, 0, 2 * Math.PI); ctx.stroke();
    ctx.setLineDash([]);
  }
}

export const layerName = (id) => (id === "mask" ? "Moving area" : (brushOf(id)?.name || `Brush ${id.slice(1)}`));
