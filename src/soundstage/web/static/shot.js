// The shot page: compare two takes side by side or with a wipe, and the status buttons (the
// actions the server says this person may take now), through the JSON API.

import { api } from "./api.js";

const $ = (id) => document.getElementById(id);
const code = $("shot").dataset.code;

const view = $("compare-view");
if (view) {
  const wipe = () => { $("compare-img-b").parentElement.style.clipPath = view.classList.contains("wipe") ? `inset(0 0 0 ${$("wipe").value}%)` : ""; };
  // Show the chosen take on one side: a still in its <img>, a clip take in its <video>.
  const choose = (side) => {
    const option = $(`compare-${side}`).selectedOptions[0];
    const clip = option.dataset.clip === "true";
    const image = $(`compare-img-${side}`), video = $(`compare-clip-${side}`);
    image.hidden = clip;
    video.hidden = !clip;
    if (clip) video.src = option.value;
    else image.src = option.value;
  };
  $("compare-a").addEventListener("change", () => choose("a"));
  $("compare-b").addEventListener("change", () => choose("b"));
  $("wipe").addEventListener("input", wipe);
  document.querySelectorAll("[data-mode]").forEach((button) =>
    button.addEventListener("click", () => {
      view.classList.toggle("side", button.dataset.mode === "side");
      view.classList.toggle("wipe", button.dataset.mode === "wipe");
      document.querySelectorAll("[data-mode]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
      wipe();
    }));
}

document.querySelectorAll("#actions [data-action]").forEach((button) =>
  button.addEventListener("click", async () => {
    try {
      const answer = await api("POST", `/api/shots/${encodeURIComponent(code)}/decisions`, {
        action: button.dataset.action, note: $("decision-note").value.trim(),
        override_reason: $("override-reason").value.trim(),
      });
      location.reload();
      $("message").textContent = `${answer.take ?? code}: ${answer.status}`;
    } catch (error) {
      $("message").textContent = error.message;
      $("message").classList.add("error");
    }
  }));
