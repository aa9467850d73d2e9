// The dailies player: steps a playlist's takes frame by frame (integer frames from 0, never
// float seconds), keys for review (↑/↓ takes, ←/→ frames, J/K/L play backwards / stop / play,
// space play, A approve, R request changes, B flip A/B, S side by side, W wipe, I / O mark in /
// out, Alt+I / Alt+O / Alt+X clear them, \ loop), drawing on the frame, and notes saved through
// the JSON API with the current take and frame.
//
// In/out marks (integer frames, like every frame here) confine playback, as in RV: J/L and space
// play inside [in, out] (the whole take without marks), entering it at its start from outside;
// at its end playback stops, or with loop on wraps round (out -> in forwards, in -> out
// backwards). Frame steps go anywhere, so a mark can be moved. Marks are kept per take for the
// page (back on a take its marks are as left; a reload clears them); loop is the player's.
//
// A still take is an <img> held for the shot's frames; a clip take (an MP4, served with Range)
// is a <video> that is never left to run on its own clock: every frame shown is a seek to the
// middle of that frame's time, (n + 0.5) / fps, so the picture is always frame n of the clip,
// the one a note on frame n names. #player's data-frame is the frame asked for, data-shown the
// frame the picture shows (set once the seek has landed), data-shown-b the B side's.

import { api } from "./api.js";
import { Annotator } from "./annotate.js";

const data = JSON.parse(document.getElementById("dailies-data").textContent);
const takes = data.playlist.takes;
const fps = data.fps || 24;
const $ = (id) => document.getElementById(id);
const player = $("player"), stage = $("stage"), wrapB = $("frame-b-wrap");
const annotator = new Annotator($("annotate"));

// One side of the stage (A, or B to compare): a take's still or its clip, shown at a frame.
class Picture {
  constructor(image, video) {
    this.image = image;
    this.video = video;
    this.clip = false;
    this.frames = 0; // a clip's frames
    this.presented = null;
    this.watch();
  }

  get element() {
    return this.clip ? this.video : this.image;
  }

  // Show a take ({image, clip_frames}); resolves once a clip can be seeked.
  async show(take) {
    this.clip = Boolean(take?.clip_frames);
    this.frames = take?.clip_frames || 0;
    this.image.hidden = this.clip;
    this.video.hidden = !this.clip;
    if (!take) return;
    if (!this.clip) {
      this.image.src = take.image;
      return;
    }
    if (this.video.getAttribute("src") !== take.image) {
      const ready = new Promise((resolve) => this.video.addEventListener("loadeddata", resolve, { once: true }));
      this.presented = null;
      this.video.src = take.image;
      await ready;
    }
  }

  // Seek a clip to frame n (a still has every frame already), held on its last frame when it is
  // shorter (a B take beside a longer A); resolves with the frame shown, once it is on screen:
  // "seeked" says the frame is decoded, the compositor's report (presented) that it is painted.
  // That wait is 30 animation frames at most, so a video that paints nothing cannot hang it, and
  // ends as soon as a newer seek takes the video to another frame.
  async seek(frame) {
    if (!this.clip) return frame;
    const shown = Math.min(frame, this.frames - 1);
    // currentTime reads back rounded (to microseconds in Chromium): compare frames, not times.
    if (Math.floor(this.video.currentTime * fps) === shown && !this.video.seeking && this.presented === shown) return shown;
    const landed = () => new Promise((resolve) => this.video.addEventListener("seeked", resolve, { once: true }));
    let seeked = landed();
    this.video.currentTime = (shown + 0.5) / fps;
    await seeked;
    // A "seeked" queued by an earlier seek (to the frame before, when steps come fast) can be the
    // one heard: wait on until the video is at this frame, or a newer seek has taken it elsewhere.
    while (this.video.seeking && Math.floor(this.video.currentTime * fps) === shown) {
      seeked = landed();
      await seeked;
    }
    const waiting = () => this.presented !== shown && this.video.getClientRects().length && Math.floor(this.video.currentTime * fps) === shown;
    for (let i = 0; i < 30 && waiting(); i++) {
      await new Promise((resolve) => requestAnimationFrame(resolve));
    }
    return shown;
  }

  // Keep `presented`, the frame of the clip the compositor last put on screen (its mediaTime is
  // the frame's start, n / fps), up to date; a video frame callback fires once per frame painted.
  watch() {
    if (!this.video.requestVideoFrameCallback) return;
    const seen = (now, meta) => {
      this.presented = Math.round(meta.mediaTime * fps);
      this.video.requestVideoFrameCallback(seen);
    };
    this.video.requestVideoFrameCallback(seen);
  }
}

const pictureA = new Picture($("frame"), $("clip"));
const pictureB = new Picture($("frame-b"), $("clip-b"));
const image = pictureA.image; // the still's <img>: the annotator fits to it once it loads

const state = { index: 0, frame: 0, frames: 1, shot: null, timer: null, compare: "single", flipped: false, loop: false, showing: 0, updating: 0 };
// In/out marks by take name, {in, out}: a frame or null each; for this page only.
const marks = new Map();

function say(text, error = false) {
  $("message").textContent = text;
  $("message").classList.toggle("error", error);
}

function currentTake() {
  return takes[state.index];
}

async function loadShot(code) {
  state.shot = await api("GET", `/api/shots/${encodeURIComponent(code)}`);
  return state.shot;
}

async function show(index) {
  if (!takes.length) return;
  stop();
  delete player.dataset.shown;
  delete player.dataset.shownB;
  // A newer show (↑/↓ pressed again before this take loaded) wins: this one stops at its next wait.
  const ticket = ++state.showing;
  state.index = (index + takes.length) % takes.length;
  const take = currentTake();
  const shot = await api("GET", `/api/shots/${encodeURIComponent(take.shot)}`);
  if (ticket !== state.showing) return;
  state.shot = shot;
  state.frame = 0;
  // A clip's notes sit on the clip's own frames; a still is held for the shot's.
  state.frames = Math.max(1, take.clip_frames || shot.frames || take.frames || 1);
  state.flipped = false;
  player.dataset.clip = take.clip_frames ? "true" : "false";
  await pictureA.show(take);
  if (ticket !== state.showing) return;
  document.querySelectorAll(".playlist-take").forEach((li) => li.classList.toggle("current", li.dataset.take === take.name));
  const others = shot.takes.filter((t) => t.number !== take.number);
  // B is the newest other take, and the select says so; options by take number (two takes may
  // share one image).
  $("compare-take").replaceChildren(...others.map((t) => new Option(t.name, String(t.number))));
  state.others = others;
  if (others.length) $("compare-take").value = String(others[others.length - 1].number);
  await pictureB.show(others.length ? others[others.length - 1] : take);
  if (ticket !== state.showing) return;
  $("take-name").textContent = take.name;
  $("frame-count").textContent = state.frames;
  annotator.clear();
  showMarks();
  status(shot.status);
  listNotes();
  update();
}

function status(value) {
  $("shot-status").textContent = value;
  $("shot-status").dataset.status = value;
  const li = document.querySelector(`.playlist-take[data-take="${currentTake().name}"] .status`);
  if (li) li.textContent = value;
}

function notesHere() {
  const take = currentTake();
  return (state.shot?.notes ?? []).filter((n) => n.take === take.number && n.frame === state.frame);
}

async function update() {
  const take = currentTake();
  const frame = state.frame;
  const ticket = ++state.updating;
  Object.assign(player.dataset, { shot: take.shot, take: take.name, frame: String(frame) });
  $("frame-number").textContent = frame;
  $("timeline-head").style.left = `${(100 * frame) / state.frames}%`;
  annotator.show(notesHere().flatMap((n) => n.shapes));
  requestAnimationFrame(() => annotator.fit(pictureA.element));
  const [shownA, shownB] = await Promise.all([pictureA.seek(frame), pictureB.seek(frame)]);
  // Only the newest request says what is shown: an earlier seek may land after a later one began
  // (even one for this same frame, asked for again since).
  if (state.updating === ticket) Object.assign(player.dataset, { shown: String(shownA), shownB: String(shownB) });
}

function marksOf() {
  const name = currentTake().name;
  if (!marks.has(name)) marks.set(name, { in: null, out: null });
  return marks.get(name);
}

// The frames playback stays in: [in, out], the take's first and last frame where unmarked.
function range() {
  const m = marksOf();
  return [m.in ?? 0, m.out ?? state.frames - 1];
}

// I / O mark the current frame; a mark that would put in after out clears the other one, as
// Avid and Premiere do.
function mark(which) {
  const m = marksOf();
  m[which] = state.frame;
  if (m.in !== null && m.out !== null && m.in > m.out) m[which === "in" ? "out" : "in"] = null;
  showMarks();
}

function clearMarks(...which) {
  const m = marksOf();
  for (const w of which) m[w] = null;
  showMarks();
}

function showMarks() {
  const m = marksOf();
  for (const w of ["in", "out"]) {
    $(`mark-${w}`).textContent = m[w] ?? "–";
    if (m[w] === null) delete player.dataset[w];
    else player.dataset[w] = String(m[w]);
  }
  const [lo, hi] = range();
  const marked = m.in !== null || m.out !== null;
  const span = $("timeline-range");
  span.hidden = !marked;
  span.style.left = `${(100 * lo) / state.frames}%`;
  span.style.width = `${(100 * (hi - lo + 1)) / state.frames}%`;
  $("timeline-head").style.width = `${100 / state.frames}%`;
}

function toggleLoop() {
  state.loop = !state.loop;
  player.dataset.loop = String(state.loop);
  $("loop").setAttribute("aria-pressed", String(state.loop));
}

function listNotes() {
  const take = currentTake();
  const items = (state.shot?.notes ?? []).filter((n) => n.take === take.number).map((n) => {
    const li = document.createElement("li");
    li.className = "note";
    li.dataset.frame = n.frame ?? "";
    li.textContent = `${n.author} (${n.role})${n.frame !== null ? ` · frame ${n.frame}` : ""}: ${n.body}${n.shapes.length ? " ✎" : ""}`;
    if (n.frame !== null) li.addEventListener("click", () => go(n.frame));
    return li;
  });
  $("frame-notes").replaceChildren(...items);
}

function go(frame) {
  state.frame = Math.min(state.frames - 1, Math.max(0, Math.round(frame)));
  return update();
}

function step(by) {
  return go(state.frame + by);
}

function stop() {
  clearInterval(state.timer);
  state.timer = null;
  state.direction = 0;
  delete player.dataset.playing;
  $("play").textContent = "▶";
}

// The frame playing shows after the current one, or null where it stops: inside [in, out],
// entered at its start (in forwards, out backwards) from outside it; at its end, round to its
// start when looping.
function nextFrame(direction) {
  const [lo, hi] = range();
  const [start, end] = direction > 0 ? [lo, hi] : [hi, lo];
  if (state.frame < lo || state.frame > hi) return start;
  if (state.frame === end) return state.loop ? start : null;
  return state.frame + direction;
}

// Play forwards (1) or backwards (-1) a frame at a time at the production's rate; a tick is
// skipped, never shown late, when a clip's seek is still under way (a slow machine plays slower).
function run(direction) {
  stop();
  state.direction = direction;
  player.dataset.playing = direction > 0 ? "forwards" : "backwards";
  if (direction > 0) $("play").textContent = "❚❚";
  let busy = false;
  state.timer = setInterval(async () => {
    if (busy) return;
    const next = nextFrame(direction);
    if (next === null) return stop();
    busy = true;
    await go(next);
    busy = false;
  }, 1000 / fps);
}

function play() {
  if (state.timer) return stop();
  run(1);
}

async function refresh(message) {
  await loadShot(currentTake().shot);
  status(state.shot.status);
  listNotes();
  update();
  say(message);
}

async function saveNote(statusChange = null) {
  const take = currentTake();
  const body = {
    body: $("note-body").value.trim(),
    take: take.number,
    frame: state.frame,
    shapes: annotator.pending,
    status: statusChange,
    override_reason: $("override-reason").value.trim(),
  };
  try {
    const answer = await api("POST", `/api/shots/${encodeURIComponent(take.shot)}/notes`, body);
    $("note-body").value = "";
    annotator.clear();
    await refresh(`note ${answer.note} saved · ${take.shot} is ${answer.status}`);
  } catch (error) {
    say(error.message, true);
  }
}

async function approve() {
  const take = currentTake();
  try {
    const answer = await api("POST", `/api/shots/${encodeURIComponent(take.shot)}/decisions`, {
      action: "approve", take: take.number, note: $("note-body").value.trim(),
      override_reason: $("override-reason").value.trim(),
    });
    $("note-body").value = "";
    await refresh(`${answer.take} approved (event ${answer.event})`);
  } catch (error) {
    say(error.message, true);
  }
}

function compare(mode) {
  state.compare = state.compare === mode ? "single" : mode;
  stage.classList.toggle("side", state.compare === "side");
  stage.classList.toggle("wipe", state.compare === "wipe");
  wrapB.hidden = state.compare === "single";
  document.querySelectorAll("[data-compare]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.compare === state.compare)));
  wipe();
  requestAnimationFrame(() => annotator.fit(pictureA.element));
}

function compareTake() {
  return (state.others ?? []).find((t) => String(t.number) === $("compare-take").value);
}

async function flip() {
  state.flipped = !state.flipped;
  await pictureA.show(state.flipped ? compareTake() ?? currentTake() : currentTake());
  update();
  player.dataset.showing = state.flipped ? "b" : "a";
  say(state.flipped ? `showing B: ${$("compare-take").selectedOptions[0]?.text ?? "(no other take)"}` : `showing A: ${currentTake().name}`);
}

function wipe() {
  wrapB.style.clipPath = state.compare === "wipe" ? `inset(0 0 0 ${$("wipe").value}%)` : "";
}

function selectTool(tool) {
  annotator.tool = tool;
  document.querySelectorAll("[data-tool]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.tool === tool)));
}

const keys = {
  ArrowUp: () => show(state.index - 1), ArrowDown: () => show(state.index + 1),
  j: () => run(-1), k: stop, l: () => run(1),
  ArrowLeft: () => step(-1), ",": () => step(-1), ArrowRight: () => step(1), ".": () => step(1),
  " ": play, a: approve, r: () => saveNote("changes requested"),
  b: flip, s: () => compare("side"), w: () => compare("wipe"), Escape: () => annotator.clear(),
  i: () => mark("in"), o: () => mark("out"), "\\": toggleLoop,
};
// Premiere's clearing keys; by the key's place (event.code), as Alt+letter types a symbol on a Mac.
const altKeys = { KeyI: () => clearMarks("in"), KeyO: () => clearMarks("out"), KeyX: () => clearMarks("in", "out") };

document.addEventListener("keydown", (event) => {
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(event.target.tagName);
  if ((typing && event.key !== "Escape") || event.ctrlKey || event.metaKey) return;
  const action = event.altKey ? altKeys[event.code] : keys[event.key] ?? keys[event.key.toLowerCase()];
  if (action) {
    event.preventDefault();
    if (typing) event.target.blur();
    action();
  }
});

$("prev-frame").addEventListener("click", () => step(-1));
$("next-frame").addEventListener("click", () => step(1));
$("play").addEventListener("click", play);
$("reverse").addEventListener("click", () => run(-1));
$("save-note").addEventListener("click", () => saveNote());
$("request-changes").addEventListener("click", () => saveNote("changes requested"));
$("approve").addEventListener("click", approve);
$("clear-drawing").addEventListener("click", () => annotator.clear());
$("colour").addEventListener("input", (e) => { annotator.colour = e.target.value; });
$("compare-take").addEventListener("change", async () => {
  await pictureB.show(compareTake());
  if (state.flipped) await pictureA.show(compareTake());
  update();
});
$("set-in").addEventListener("click", () => mark("in"));
$("set-out").addEventListener("click", () => mark("out"));
$("clear-marks").addEventListener("click", () => clearMarks("in", "out"));
$("loop").addEventListener("click", toggleLoop);
$("timeline").addEventListener("click", (event) => {
  const box = event.currentTarget.getBoundingClientRect();
  go(Math.floor(((event.clientX - box.left) / box.width) * state.frames));
});
$("wipe").addEventListener("input", wipe);
document.querySelectorAll("[data-tool]").forEach((b) => b.addEventListener("click", () => selectTool(b.dataset.tool)));
document.querySelectorAll("[data-compare]").forEach((b) => b.addEventListener("click", () => compare(b.dataset.compare)));
document.querySelectorAll(".playlist-take button").forEach((b) =>
  b.addEventListener("click", () => show(Number(b.parentElement.dataset.index))));
image.addEventListener("load", () => annotator.fit(image));
pictureA.video.addEventListener("loadeddata", () => annotator.fit(pictureA.video));
window.addEventListener("resize", () => annotator.fit(pictureA.element));

$("share")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const password = $("share-password").value;
  try {
    const answer = await api("POST", `/api/playlists/${data.playlist.id}/share`, {
      password: password || null, expires_in_hours: Number($("share-hours").value), can_comment: $("share-comments").checked,
    });
    $("share-url").textContent = new URL(answer.url, location.href).href;
  } catch (error) {
    say(error.message, true);
  }
});

show(0).catch((error) => say(error.message, true));
