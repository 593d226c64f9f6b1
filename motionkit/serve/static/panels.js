// The side panel's controls: the camera sliders, the list of painted layers and the selected
// brush's direction, speed, proximity and ambient motion.

import { brushColour, layerName } from "./draw.js";
import { addBrush, brushOf, painted, state } from "./model.js";

const $ = (id) => document.getElementById(id);
let hooks = {};

const cameraInputs = { "cam-pan-u": ["pan", 0], "cam-pan-v": ["pan", 1], "cam-zoom": ["zoom"], "cam-rotate": ["rotate"] };

export function showCamera() {
  for (const [id, [name, i]] of Object.entries(cameraInputs)) {
    const value = i === undefined ? state.camera[name] : state.camera[name][i];
    $(id).value = value; $(`${id}-value`).textContent = Number(value).toFixed(name === "rotate" ? 1 : 2);
  }
}

export function showLayers() {
  const list = $("layers");
  list.replaceChildren();
  const entries = [...state.brushes.map((b) => b.id)];
  if (painted(state.mask.encoded) || state.layer === "mask") entries.push("mask");
  if (!entries.length) {
    const hint = document.createElement("p");
    hint.className = "note";
    hint.textContent = "Paint with the Brush tool (B): a motion brush moves what it covers; the moving area limits what may move at all.";
    list.append(hint);
  }
  for (const id of entries) {
    const row = document.createElement("button");
    row.className = `layer${state.layer === id ? " selected" : ""}`;
    row.dataset.layer = id;
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = id === "mask" ? "repeating-linear-gradient(45deg,#222 0 3px,#888 3px 6px)" : `rgb(${brushColour(brushOf(id)).join(",")})`;
    const name = document.createElement("span");
    name.textContent = layerName(id);
    const what = document.createElement("span");
    what.className = "note";
    const encoded = id === "mask" ? state.mask.encoded : brushOf(id).encoded;
    const area = encoded ? `${(100 * encoded.area).toFixed(0)}%` : "empty";
    if (id === "mask") what.textContent = `${area} may move`;
    else {
      const b = brushOf(id);
      const speed = Math.hypot(...b.direction);
      what.textContent = `${area} · ${speed.toFixed(1)} px/f${b.proximity ? ` · prox ${b.proximity}` : ""}${b.ambient ? ` · ~${b.ambient}` : ""}`;
    }
    row.append(swatch, name, what);
    row.addEventListener("click", () => { state.layer = id; state.selected = -1; hooks.setTool("brush"); hooks.changed(); });
    list.append(row);
  }
}

const sliders = ["brush-angle", "brush-speed", "brush-proximity", "brush-ambient"];

export function showBrush() {
  const brush = state.layer && state.layer !== "mask" ? brushOf(state.layer) : null;
  $("brush-settings").hidden = !brush;
  $("edit-mask").classList.toggle("active", state.layer === "mask");
  if (!brush) return;
  const [dx, dy] = brush.direction;
  const values = { "brush-angle": Math.round((Math.atan2(dy, dx) * 180) / Math.PI), "brush-speed": Math.hypot(dx, dy),
    "brush-proximity": brush.proximity, "brush-ambient": brush.ambient };
  for (const id of sliders) { $(id).value = values[id]; $(`${id}-value`).textContent = Number(values[id]).toFixed(id === "brush-proximity" ? 3 : id === "brush-angle" ? 0 : 1); }
}

function readBrush() {
  const brush = brushOf(state.layer);
  if (!brush) return;
  const angle = (Number($("brush-angle").value) * Math.PI) / 180, speed = Number($("brush-speed").value);
  brush.direction = [Number((speed * Math.cos(angle)).toFixed(3)), Number((speed * Math.sin(angle)).toFixed(3))];
  brush.proximity = Number($("brush-proximity").value);
  brush.ambient = Number($("brush-ambient").value);
  showBrush(); showLayers(); hooks.draw(); hooks.schedulePreview();
}

export function setupPanels(callbacks) {
  hooks = callbacks;
  for (const [id, [name, i]] of Object.entries(cameraInputs)) {
    $(id).addEventListener("input", (e) => {
      const value = Number(e.target.value);
      if (i === undefined) state.camera[name] = value; else state.camera[name] = state.camera[name].map((v, k) => (k === i ? value : v));
      showCamera();
      hooks.schedulePreview();
    });
    $(id).addEventListener("change", hooks.committed);
    $(id).addEventListener("dblclick", () => { state.camera = { pan: [0, 0], zoom: 1, rotate: 0 }; hooks.committed(); });
  }
  for (const id of sliders) {
    $(id).addEventListener("input", readBrush);
    $(id).addEventListener("change", hooks.committed);
  }
  $("add-brush").addEventListener("click", () => {
    state.layer = addBrush().id; state.selected = -1;
    hooks.setTool("brush"); hooks.changed();
  });
  $("edit-mask").addEventListener("click", () => { state.layer = "mask"; state.selected = -1; hooks.setTool("brush"); hooks.changed(); });
  $("mode-paint").addEventListener("click", () => hooks.setErase(false));
  $("mode-erase").addEventListener("click", () => hooks.setErase(true));
  $("brush-size").addEventListener("input", (e) => hooks.setSize(Number(e.target.value)));
}
