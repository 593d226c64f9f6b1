// Jobs from the editor: render (animate), translate (a video and its edited frame 0), check (the
// spec against a video: the adherence report, as a table and an overlay). One progress bar.

import { api, postJSON, runJob, upload } from "./api.js";
import { draw, view } from "./draw.js";
import { current, spec, state } from "./model.js";
import { show } from "./preview.js";

const $ = (id) => document.getElementById(id);
let busy = false;
let running = null;   // the id of the job being followed
let lastRender = null;   // {id, spec snapshot} of the newest finished render

function status(text, isError = false) {
  $("status").textContent = text;
  $("status").title = text;
  $("status").classList.toggle("error", isError);
}

function showProgress(label, fraction) {
  $("progress").value = fraction;
  // Every fraction shown since the job started, for anyone (a test) who looks after the fact.
  const bar = $("progress");
  bar.dataset.seen = fraction === 0 ? "0" : `${bar.dataset.seen || "0"},${fraction}`;
  $("progress-label").textContent = `${label} ${Math.round(100 * fraction)}%`;
  $("job-panel").dataset.state = fraction >= 1 ? "done" : "running";
}

async function withJob(label, job, { keepDownload = false } = {}) {
  if (busy) throw new Error("a job is already running");
  busy = true;
  updateButtons();
  showProgress(label, 0);
  if (!keepDownload) $("download").hidden = true;
  try {
    const record = await runJob(job, (fraction) => showProgress(label, fraction), (id) => {
      running = id;
      $("cancel").hidden = false;
    });
    showProgress(label, 1);
    return record;
  } catch (error) {
    $("job-panel").dataset.state = "failed";
    $("progress-label").textContent = `${label} failed`;
    throw error;
  } finally {
    running = null;
    $("cancel").hidden = true;
    busy = false;
    updateButtons();
  }
}

function offerDownload(id, name) {
  $("download").href = `/api/jobs/${id}/result`;
  $("download").download = name;
  $("download").textContent = `Download ${name}`;
  $("download").hidden = false;
}

export function updateButtons() {
  const ready = Boolean(state.asset) && !busy;
  $("render").disabled = !ready || Boolean(state.video);
  $("check").disabled = !ready || !(state.video || lastRender) || !state.tracks.length;
  $("translate-label").classList.toggle("disabled", !ready || !state.video);
  $("translate").disabled = !ready || !state.video;
  $("check").textContent = state.video ? "Check the video against the spec" : "Check the render";
}

export async function render() {
  try {
    status("Rendering…");
    const asked = current();
    const record = await withJob("Rendering", { kind: "animate", asset: state.asset, spec: spec() });
    lastRender = { id: record.id, spec: asked };
    offerDownload(record.id, "motionkit.mp4");
    status("Rendered. Check it to see how closely it follows the drags.");
  } catch (error) {
    status(`Render: ${error.message}`, true);
  }
  updateButtons();
}

export async function translate(file) {
  try {
    status("Uploading the edited frame…");
    const edited = await upload(file);
    const record = await withJob("Translating", { kind: "translate", video: state.asset, edited: edited.id });
    offerDownload(record.id, "translated.mp4");
    const video = await (await api(`/api/jobs/${record.id}/result`)).blob();
    show(URL.createObjectURL(video));
    $("preview-title").textContent = "Translated video";
    status("Translated: the edit is carried through the video (playing in the preview).");
  } catch (error) {
    status(`Translate: ${error.message}`, true);
  }
}

export async function check() {
  try {
    let video = state.asset;
    if (!state.video) {
      if (!lastRender) throw new Error("render first");
      video = (await (await postJSON(`/api/jobs/${lastRender.id}/asset`, {})).json()).id;
    }
    status("Checking: re-tracking the video…");
    const record = await withJob("Checking", { kind: "check", video, spec: spec() }, { keepDownload: true });
    const report = await (await api(`/api/jobs/${record.id}/result`)).json();
    showReport(report, current());
    status(`Checked: worst final error ${Math.max(0, ...report.tracks.map((t) => t.final_epe)).toFixed(1)} px.`);
  } catch (error) {
    status(`Check: ${error.message}`, true);
  }
}

const grade = (epe) => (epe < 2 ? "good" : epe < 5 ? "fair" : "poor");

export function showReport(report, asked) {
  view.report = report;
  view.reportSpec = asked;
  const table = $("report-table");
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const name of ["track", "kind", "mean EPE", "final EPE", "frame"]) {
    const cell = document.createElement("th"); cell.textContent = name; head.append(cell);
  }
  const body = table.createTBody();
  for (const t of report.tracks) {
    const row = body.insertRow();
    row.dataset.track = t.index;
    row.className = grade(t.final_epe);
    for (const value of [`${t.index + 1}${t.name ? ` ${t.name}` : ""}`, t.kind, `${t.mean_epe.toFixed(2)} px`, `${t.final_epe.toFixed(2)} px`, t.final_frame]) {
      row.insertCell().textContent = value;
    }
    row.addEventListener("click", () => { state.selected = t.index; state.key = -1; document.dispatchEvent(new Event("motionkit:changed")); });
  }
  const c = report.camera;
  const lines = [`${report.size[1]} × ${report.size[0]} px, ${report.frames} frames, flow: ${report.estimator}`,
    `camera: pan (${c.achieved_pan.map((v) => v.toFixed(1)).join(", ")}) px of (${c.requested_pan.map((v) => v.toFixed(1)).join(", ")}), zoom ${c.achieved_zoom.toFixed(3)} of ${c.requested_zoom.toFixed(3)}`];
  if (report.outside_motion !== null && report.outside_motion !== undefined) {
    lines.push(`motion outside the moving area: ${report.outside_motion.toFixed(2)} px (worst frame ${report.outside_motion_max.toFixed(2)})`);
  }
  $("report-notes").textContent = lines.join("\n");
  $("report").hidden = false;
  $("report").scrollIntoView({ block: "nearest" });
  $("show-report").checked = true;
  view.reportShown = true;
  markStale();
  draw();
}

// The report describes the spec it checked; say so when the spec has changed since.
export function markStale() {
  if (!view.report) return;
  $("report-stale").hidden = view.reportSpec === current();
}

export function setup() {
  $("render").addEventListener("click", render);
  $("cancel").addEventListener("click", () => { if (running) api(`/api/jobs/${running}`, { method: "DELETE" }); });
  $("check").addEventListener("click", check);
  $("translate").addEventListener("change", (event) => { if (event.target.files[0]) translate(event.target.files[0]); event.target.value = ""; });
  $("show-report").addEventListener("change", (event) => { view.reportShown = event.target.checked; draw(); });
  $("close-report").addEventListener("click", () => { view.report = null; $("report").hidden = true; draw(); });
  document.addEventListener("motionkit:opened", () => { lastRender = null; view.report = null; $("report").hidden = true; $("download").hidden = true; updateButtons(); });
}
