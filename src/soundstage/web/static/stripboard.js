// The stripboard page: a producer drags a strip onto another shoot day; the move goes to the
// JSON API (the same rules as `soundstage schedule move`). A move that breaks a rule is refused
// with its conflict, shown here, and the strip stays where it was; a stored move redraws the
// board and the day out of days from the server.

import { api } from "./api.js";

const message = document.getElementById("message");

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

function bind() {
  const board = document.getElementById("stripboard");
  if (!board || board.dataset.canMove !== "true") return;
  for (const strip of board.querySelectorAll('.strip[draggable="true"]')) {
    strip.addEventListener("dragstart", (event) => {
      event.dataTransfer.setData("text/plain", strip.dataset.scene);
      event.dataTransfer.effectAllowed = "move";
      strip.classList.add("dragging");
    });
    strip.addEventListener("dragend", () => strip.classList.remove("dragging"));
  }
  for (const day of board.querySelectorAll(".day[data-day]")) {
    day.addEventListener("dragover", (event) => {
      event.preventDefault();
      day.classList.add("over");
    });
    day.addEventListener("dragleave", () => day.classList.remove("over"));
    day.addEventListener("drop", (event) => {
      event.preventDefault();
      day.classList.remove("over");
      const scene = event.dataTransfer.getData("text/plain");
      const target = Number(day.dataset.day) + 1;
      const from = board.querySelector(`.strip[data-scene="${CSS.escape(scene)}"]`);
      if (scene && from && Number(from.dataset.day) + 1 !== target) move(scene, target);
    });
  }
}

bind();
