// sealcam viewer: the timeline of verified events, grouped by day and
// camera, with clip playback and live updates. Everything shown comes from
// this machine's `sealcam ui`, which decrypted and verified it; text from a
// camera (types, labels) is only ever set as textContent.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { events: [], cameras: [], thumbs: new Map(), known: new Set() };

const WARNINGS = {
  misdelivered: "⚠ Misdelivered: the server sent another object than this one. Nothing of it is shown.",
  verification_failed: "⚠ Tampered: it failed verification. Nothing of it is shown.",
  invalid: "⚠ Invalid record: signed by the camera, but not an event record.",
  unavailable: "Not available right now.",
};

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function capturedMs(ev) {
  return ev.record && ev.record.captured_at_ms ? ev.record.captured_at_ms : ev.captured_at * 1000;
}

function dayKey(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function cameraName(ev) {
  return ev.camera_name || ev.camera_id;
}

function warningTile(status) {
  const w = el("div", "warning", WARNINGS[status] || WARNINGS.unavailable);
  w.dataset.status = status;
  return w;
}

async function loadThumb(ev, frame, tile) {
  const cached = state.thumbs.get(ev.event_id);
  if (cached && cached.url) {
    frame.replaceChildren(thumbImg(cached.url));
    return;
  }
  if (cached && cached.status) {
    frame.replaceChildren(warningTile(cached.status));
    tile.classList.add("refused");
    return;
  }
  try {
    const r = await fetch(`api/events/${ev.event_id}/thumbnail`, { credentials: "same-origin" });
    if (r.ok) {
      const url = URL.createObjectURL(await r.blob());
      state.thumbs.set(ev.event_id, { url });
      frame.replaceChildren(thumbImg(url));
    } else {
      let status = "unavailable";
      try { status = (await r.json()).status || status; } catch (_) { /* not JSON */ }
      if (status === "misdelivered" || status === "verification_failed") {
        state.thumbs.set(ev.event_id, { status });
        tile.classList.add("refused");
      }
      frame.replaceChildren(warningTile(status));
    }
  } catch (_) {
    frame.replaceChildren(warningTile("unavailable"));
  }
}

function thumbImg(url) {
  const img = el("img", "thumb");
  img.alt = "thumbnail";
  img.src = url;
  return img;
}

function tileFor(ev) {
  const tile = el("article", "tile");
  tile.tabIndex = 0;
  tile.dataset.event = ev.event_id;
  const rec = ev.record || { status: "missing" };
  tile.dataset.status = rec.status;
  const frame = el("div", "frame");
  const hasThumb = ev.parts.some((p) => p.kind === "thumbnail");
  tile.append(frame);
  const caption = el("div", "caption");
  const left = el("div");
  if (rec.status === "verified") {
    left.append(el("div", "type", rec.type));
    if (rec.labels && rec.labels.length) left.append(el("div", "labels", rec.labels.join(", ")));
  } else if (rec.status === "missing") {
    left.append(el("div", "type", "event"));
  } else {
    tile.classList.add("refused");
    left.append(warningTile(rec.status));
  }
  const right = el("div", "when", new Date(capturedMs(ev)).toLocaleTimeString());
  if (rec.duration_ms) right.append(el("div", "", `${(rec.duration_ms / 1000).toFixed(1)} s`));
  caption.append(left, right);
  tile.append(caption);
  if (hasThumb) {
    frame.append(el("span", "labels", "…"));
    loadThumb(ev, frame, tile);
  } else {
    frame.append(el("span", "labels", "no thumbnail"));
  }
  const open = () => openPlayer(ev);
  tile.addEventListener("click", open);
  tile.addEventListener("keydown", (e) => { if (e.key === "Enter") open(); });
  return tile;
}

function openPlayer(ev) {
  const has = (k) => ev.parts.some((p) => p.kind === k);
  const video = $("video");
  video.removeAttribute("src");
  if (has("clip")) {
    video.src = `api/events/${ev.event_id}/clip`;
    video.hidden = false;
  } else {
    video.hidden = true;
  }
  const rec = ev.record || {};
  $("player-meta").textContent = `${cameraName(ev)} · ${new Date(capturedMs(ev)).toLocaleString()}` +
    (rec.status === "verified" ? ` · ${rec.type}` : "");
  for (const k of ["thumbnail", "clip", "record"]) {
    const a = $(`dl-${k}`);
    a.hidden = !has(k);
    a.href = `api/events/${ev.event_id}/${k}?download=1`;
  }
  $("player").dataset.event = ev.event_id;
  $("player").showModal();
}

async function exportDay(cameraId, day, button) {
  const [y, m, d] = day.split("-").map(Number);
  const since = Math.floor(new Date(y, m - 1, d).getTime() / 1000);
  button.disabled = true;
  button.textContent = "Exporting…";
  try {
    const r = await fetch("api/export", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ camera: cameraId, since, until: since + 86400 }),
    });
    const body = await r.json();
    button.textContent = r.ok
      ? `Exported ${body.export.written + body.export.kept} files to ${body.dir}`
      : `Export failed: ${body.error}`;
  } catch (e) {
    button.textContent = `Export failed: ${e}`;
  }
}

function render() {
  const main = $("timeline");
  const byDay = new Map();
  for (const ev of state.events) {
    const key = dayKey(capturedMs(ev));
    if (!byDay.has(key)) byDay.set(key, new Map());
    const cams = byDay.get(key);
    if (!cams.has(ev.camera_id)) cams.set(ev.camera_id, []);
    cams.get(ev.camera_id).push(ev);
  }
  const sections = [];
  for (const [day, cams] of [...byDay.entries()].sort((a, b) => (a[0] < b[0] ? 1 : -1))) {
    const section = el("section", "day");
    section.append(el("h2", "", new Date(`${day}T12:00:00`).toLocaleDateString(undefined, { weekday: "long", year: "numeric", month: "long", day: "numeric" })));
    for (const [cam, events] of cams) {
      const block = el("div", "camera");
      const head = el("div", "camera-head");
      head.append(el("h3", "", `${cameraName(events[0])} · ${events.length} event${events.length === 1 ? "" : "s"}`));
      const exp = el("button", "", "Export day");
      exp.type = "button";
      exp.addEventListener("click", () => exportDay(cam, day, exp));
      head.append(exp);
      const tiles = el("div", "tiles");
      events.sort((a, b) => capturedMs(b) - capturedMs(a)).forEach((ev) => tiles.append(tileFor(ev)));
      block.append(head, tiles);
      section.append(block);
    }
    sections.push(section);
  }
  if (!sections.length) sections.push(el("p", "labels", "No events in this window."));
  main.replaceChildren(...sections);
  $("status").textContent = `${state.events.length} events`;
}

function fillSelect(select, values) {
  const current = select.value;
  const first = select.options[0];
  select.replaceChildren(first);
  for (const [value, label] of values) {
    const o = el("option", "", label);
    o.value = value;
    select.append(o);
  }
  select.value = current;
}

async function load() {
  const params = new URLSearchParams();
  if ($("camera").value) params.set("camera", $("camera").value);
  if ($("type").value) params.set("type", $("type").value);
  const win = $("window").value;
  if (win) params.set("since", String(Math.floor(Date.now() / 1000) - Number(win)));
  $("status").textContent = "Loading…";
  const r = await fetch(`api/timeline?${params}`, { credentials: "same-origin" });
  if (!r.ok) {
    $("status").textContent = `Could not load the timeline (${r.status})`;
    return;
  }
  const body = await r.json();
  state.events = body.events;
  state.cameras = body.cameras;
  state.events.forEach((e) => state.known.add(e.event_id));
  fillSelect($("camera"), body.cameras.map((c) => [c.camera_id, c.name || c.camera_id]));
  const types = new Set(body.events.filter((e) => e.record && e.record.status === "verified").map((e) => e.record.type));
  if ($("type").value) types.add($("type").value);
  fillSelect($("type"), [...types].sort().map((t) => [t, t]));
  render();
}

function live() {
  const source = new EventSource("api/live");
  source.addEventListener("entry", (m) => {
    const msg = JSON.parse(m.data);
    if (!msg.event || state.known.has(msg.event.event_id)) return;
    const ev = msg.event;
    if ($("camera").value && ev.camera_id !== $("camera").value) return;
    if ($("type").value && !(ev.record && ev.record.type === $("type").value)) return;
    state.known.add(ev.event_id);
    state.events.unshift(ev);
    render();
  });
  source.onerror = () => { $("status").textContent = "Live updates paused; retrying…"; };
}

$("close").addEventListener("click", () => { $("video").pause(); $("player").close(); });
for (const id of ["camera", "type", "window"]) $(id).addEventListener("change", load);
load().then(live);
