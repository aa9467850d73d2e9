// The stripboard page: a producer drags a strip onto another shoot day. Over each day the page
// asks the JSON API what the move would cost and break, and shows it; on the drop the move goes
// to the API (the same rules as `soundstage schedule move`). A move that breaks a rule is
// refused with its conflict, shown here, and the strip stays where it was; a stored move
// redraws the board and the day out of days from the server.

import { api } from "./api.js";

const message = document.getElementById("message");
let dragged = null; // the strip being dragged: dataTransfer is unreadable until the drop
let asked = ""; // the last preview asked for, so that a late answer for another day is dropped

function say(text, refused) {
  message.textContent = text;
  message.classList.toggle("refused", refused);
}

async function redraw() {
  const html = await (await fetch(location.pathname, { credentials: "same-origin" })).text();
  const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("schedule");
  document.getElementById("schedule").replaceWith(fresh);
  bind();
}

async function move(scene, day) {
  try {
    const moved = await api("POST", "/api/schedule/moves", { scene, day });
    await redraw();
    say(`scene ${moved.scene} moved to day ${moved.day} (${moved.date}); cost ${moved.cost}`, false);
  } catch (error) {
    say(`refused: ${error.message}`, true);
  }
}

async function preview(scene, day, element) {
  const key = `${scene}@${day}`;
  asked = key;
  try {
    const what = await api("GET", `/api/schedule/preview?scene=${encodeURIComponent(scene)}&day=${day}`);
    if (asked !== key) return;
    element.classList.toggle("conflict", what.conflicts.length > 0);
    const verdict = what.conflicts.length ? `breaks: ${what.conflicts.join("; ")}` : "no conflicts";
    say(`scene ${scene} to day ${day}: cost ${what.cost}; ${verdict}`, what.conflicts.length > 0);
  } catch (error) {
    if (asked === key) say(`scene ${scene} to day ${day}: ${error.message}`, true);
  }
}

function bind() {
  const board = document.getElementById("stripboard");
  if (!board || board.dataset.canMove !== "true") return;
  for (const strip of board.querySelectorAll('.strip[draggable="true"]')) {
    strip.addEventListener("dragstart", (event) => {
      event.dataTransfer.setData("text/plain", strip.dataset.scene);
      dragged = strip;
      event.dataTransfer.effectAllowed = "move";
      strip.classList.add("dragging");
    });
    strip.addEventListener("dragend", () => {
      strip.classList.remove("dragging");
      dragged = null;
    });
  }
  for (const day of board.querySelectorAll(".day[data-day]")) {
    day.addEventListener("dragover", (event) => {
      event.preventDefault();
      day.classList.add("over");
    });
    day.addEventListener("dragenter", () => {
      if (!dragged || day.classList.contains("over") || day.dataset.day === dragged.dataset.day) return;
      preview(dragged.dataset.scene, Number(day.dataset.day) + 1, day);
    });
    day.addEventListener("dragleave", (event) => {
      if (day.contains(event.relatedTarget)) return; // still over the day, entering one of its strips
      day.classList.remove("over", "conflict");
    });
    day.addEventListener("drop", (event) => {
      event.preventDefault();
      day.classList.remove("over", "conflict");
      asked = "";
      const scene = event.dataTransfer.getData("text/plain");
      const target = Number(day.dataset.day) + 1;
      const from = board.querySelector(`.strip[data-scene="${CSS.escape(scene)}"]`);
      if (scene && from && Number(from.dataset.day) + 1 !== target) move(scene, target);
    });
  }
}

bind();
