// The dailies player: steps a playlist's takes frame by frame (integer frames from 0, never
// float seconds), keys for review (↑/↓ takes, ←/→ frames, J/K/L play backwards / stop / play,
// space play, A approve, R request changes, B flip A/B, S side by side, W wipe), drawing on the
// frame, and notes saved through the JSON API with the current take and frame.
//
// A still take is an <img> held for the shot's frames; a clip take (an MP4, served with Range)
// is a <video> that is never left to run on its own clock: every frame shown is a seek to the
// middle of that frame's time, (n + 0.5) / fps, so the picture is always frame n of the clip,
// the one a note on frame n names. #player's data-frame is the frame asked for, data-shown the
// frame the picture shows (set once the seek has landed).

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
  }

  get element() {
    return this.clip ? this.video : this.image;
  }

  // Show a take ({image, clip_frames}); resolves once a clip can be seeked.
  async show(take) {
    this.clip = Boolean(take?.clip_frames);
    this.image.hidden = this.clip;
    this.video.hidden = !this.clip;
    if (!take) return;
    if (!this.clip) {
      this.image.src = take.image;
      return;
    }
    if (this.video.getAttribute("src") !== take.image) {
      const ready = new Promise((resolve) => this.video.addEventListener("loadeddata", resolve, { once: true }));
      this.video.src = take.image;
      await ready;
    }
  }

  // Seek a clip to frame n (a still has every frame already); resolves when it is there.
  async seek(frame) {
    if (!this.clip) return;
    const time = (frame + 0.5) / fps;
    if (this.video.currentTime === time && !this.video.seeking) return;
    await new Promise((resolve) => {
      this.video.addEventListener("seeked", resolve, { once: true });
      this.video.currentTime = time;
    });
  }
}

const pictureA = new Picture($("frame"), $("clip"));
const pictureB = new Picture($("frame-b"), $("clip-b"));
const image = pictureA.image; // the still's <img>: the annotator fits to it once it loads

const state = { index: 0, frame: 0, frames: 1, shot: null, timer: null, compare: "single", flipped: false, shownAt: 0 };

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
  state.index = (index + takes.length) % takes.length;
  const take = currentTake();
  const shot = await loadShot(take.shot);
  state.frame = 0;
  // A clip's notes sit on the clip's own frames; a still is held for the shot's.
  state.frames = Math.max(1, take.clip_frames || shot.frames || take.frames || 1);
  state.flipped = false;
  player.dataset.clip = take.clip_frames ? "true" : "false";
  await pictureA.show(take);
  document.querySelectorAll(".playlist-take").forEach((li) => li.classList.toggle("current", li.dataset.take === take.name));
  const others = shot.takes.filter((t) => t.number !== take.number);
  $("compare-take").replaceChildren(...others.map((t) => new Option(t.name, t.image)));
  state.others = others;
  await pictureB.show(others.length ? others[others.length - 1] : take);
  $("take-name").textContent = take.name;
  $("frame-count").textContent = state.frames;
  annotator.clear();
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
  Object.assign(player.dataset, { shot: take.shot, take: take.name, frame: String(frame) });
  $("frame-number").textContent = frame;
  annotator.show(notesHere().flatMap((n) => n.shapes));
  requestAnimationFrame(() => annotator.fit(pictureA.element));
  await Promise.all([pictureA.seek(frame), pictureB.seek(frame)]);
  // Only the newest request says what is shown: an earlier seek may land after a later one began.
  if (state.frame === frame) player.dataset.shown = String(frame);
}

function listNotes() {
  const take = currentTake();
  const items = (state.shot?.notes ?? []).filter((n) => n.take === take.number).map((n) => {
    const li = document.createElement("li");
    li.className = "note";
    li.dataset.frame = n.frame ?? "";
    li.textContent = `${n.author} (${n.role})${n.frame !== null ? ` · frame ${n.frame}` : ""}: ${n.body}${n.shapes.length ? " ✎" : ""}`;
    if (n.frame !== null) li.addEventListener("click", () => step(n.frame - state.frame));
    return li;
  });
  $("frame-notes").replaceChildren(...items);
}

function step(by) {
  state.frame = Math.min(state.frames - 1, Math.max(0, state.frame + by));
  return update();
}

function stop() {
  clearInterval(state.timer);
  state.timer = null;
  state.direction = 0;
  $("play").textContent = "▶";
}

// Play forwards (1) or backwards (-1) a frame at a time at the production's rate; a frame is
// skipped, never shown late, when a clip's seek is still under way (a slow machine drops frames).
function run(direction) {
  stop();
  state.direction = direction;
  if (direction > 0) $("play").textContent = "❚❚";
  let busy = false;
  state.timer = setInterval(async () => {
    const end = direction > 0 ? state.frame >= state.frames - 1 : state.frame <= 0;
    if (end) return stop();
    if (busy) return;
    busy = true;
    await step(direction);
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
  return (state.others ?? []).find((t) => t.image === $("compare-take").value);
}

async function flip() {
  state.flipped = !state.flipped;
  await pictureA.show(state.flipped ? compareTake() ?? currentTake() : currentTake());
  await pictureA.seek(state.frame);
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
};

document.addEventListener("keydown", (event) => {
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(event.target.tagName);
  if ((typing && event.key !== "Escape") || event.ctrlKey || event.metaKey || event.altKey) return;
  const action = keys[event.key] ?? keys[event.key.toLowerCase()];
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
  await pictureB.seek(state.frame);
  if (state.flipped) {
    await pictureA.show(compareTake());
    await pictureA.seek(state.frame);
  }
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
