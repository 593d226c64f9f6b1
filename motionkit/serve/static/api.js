// The service's /api routes. With --token the page was opened once as /?token=...; the server
// answered with an HttpOnly cookie, so every same-origin request here carries the token by itself.

export async function api(route, options = {}) {
  const answer = await fetch(route, { credentials: "same-origin", ...options });
  if (!answer.ok) {
    let message = `${answer.status}`;
    try { message = (await answer.json()).error || message; } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return answer;
}

export const postJSON = (route, body) =>
  api(route, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

export async function upload(file) {
  const form = new FormData();
  form.append("file", file);
  return (await api("/api/assets", { method: "POST", body: form })).json();
}

// Submit a job and follow its server-sent events: onProgress(fraction, record) as it runs.
// Resolves with the final record when done; rejects with the server's reason otherwise.
export async function runJob(job, onProgress, onStart = () => {}) {
  const { id } = await (await postJSON("/api/jobs", job)).json();
  onStart(id);
  return new Promise((resolve, reject) => {
    const events = new EventSource(`/api/jobs/${id}/events`);
    events.onmessage = (message) => {
      const record = JSON.parse(message.data);
      onProgress(record.progress, record);
      if (record.state === "done") { events.close(); resolve(record); }
      else if (record.state === "failed" || record.state === "cancelled") {
        events.close();
        reject(new Error(`${record.state}: ${record.error}`));
      }
    };
    events.onerror = () => {
      if (events.readyState === EventSource.CLOSED) reject(new Error("the event stream closed"));
    };
  });
}
