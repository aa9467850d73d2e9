// The dailies player: steps a playlist's takes frame by frame (integer frames from 0, never
// float seconds), keys for review (J/K takes, ←/→ frames, space play, A approve, R request
// changes, B flip A/B, S side by side, W wipe), drawing on the frame, and notes saved through
// the JSON API with the current take and frame.

import { api } from "./api.js";
import { Annotator } from "./annotate.js";

const data = JSON.parse(document.getElementById("dailies-data").textContent);
const takes = data.playlist.takes;
const fps = data.fps || 24;
const $ = (id) => document.getElementById(id);
const player = $("player"), stage = $("stage"), image = $("frame"), imageB = $("frame-b"), wrapB = $("frame-b-wrap");
const annotator = new Annotator($("annotate"));

const state = { index: 0, frame: 0, frames: 1, shot: null, timer: null, compare: "single", flipped: false };

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
  state.index = (index + takes.length) % takes.length;
  const take = currentTake();
  const shot = await loadShot(take.shot);
  state.frame = 0;
  state.frames = Math.max(1, shot.frames || take.frames || 1);
  state.flipped = false;
  image.src = take.image;
  document.querySelectorAll(".playlist-take").forEach((li) => li.classList.toggle("current", li.dataset.take === take.name));
  const others = shot.takes.filter((t) => t.number !== take.number);
  $("compare-take").replaceChildren(...others.map((t) => new Option(t.name, t.image)));
  imageB.src = others.length ? others[others.length - 1].image : take.image;
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

function update() {
  const take = currentTake();
  Object.assign(player.dataset, { shot: take.shot, take: take.name, frame: String(state.frame) });
  $("frame-number").textContent = state.frame;
  annotator.show(notesHere().flatMap((n) => n.shapes));
  requestAnimationFrame(() => annotator.fit(image));
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
  update();
}

function stop() {
  clearInterval(state.timer);
  state.timer = null;
  $("play").textContent = "▶";
}

function play() {
  if (state.timer) return stop();
  $("play").textContent = "❚❚";
  state.timer = setInterval(() => {
    if (state.frame >= state.frames - 1) return stop();
    step(1);
  }, 1000 / fps);
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
  requestAnimationFrame(() => annotator.fit(image));
}

function flip() {
  state.flipped = !state.flipped;
  image.src = state.flipped ? $("compare-take").value || currentTake().image : currentTake().image;
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
  j: () => show(state.index - 1), k: () => show(state.index + 1),
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
$("save-note").addEventListener("click", () => saveNote());
$("request-changes").addEventListener("click", () => saveNote("changes requested"));
$("approve").addEventListener("click", approve);
$("clear-drawing").addEventListener("click", () => annotator.clear());
$("colour").addEventListener("input", (e) => { annotator.colour = e.target.value; });
$("compare-take").addEventListener("change", (e) => { imageB.src = e.target.value; if (state.flipped) image.src = e.target.value; });
$("wipe").addEventListener("input", wipe);
document.querySelectorAll("[data-tool]").forEach((b) => b.addEventListener("click", () => selectTool(b.dataset.tool)));
document.querySelectorAll("[data-compare]").forEach((b) => b.addEventListener("click", () => compare(b.dataset.compare)));
document.querySelectorAll(".playlist-take button").forEach((b) =>
  b.addEventListener("click", () => show(Number(b.parentElement.dataset.index))));
image.addEventListener("load", () => annotator.fit(image));
window.addEventListener("resize", () => annotator.fit(image));

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
