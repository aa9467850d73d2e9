// The shot page: compare two takes side by side or with a wipe, and the status buttons (the
// actions the server says this person may take now), through the JSON API.

import { api } from "./api.js";

const $ = (id) => document.getElementById(id);
const code = $("shot").dataset.code;

const view = $("compare-view");
if (view) {
  const wipe = () => { $("compare-img-b").parentElement.style.clipPath = view.classList.contains("wipe") ? `inset(0 0 0 ${$("wipe").value}%)` : ""; };
  $("compare-a").addEventListener("change", (e) => { $("compare-img-a").src = e.target.value; });
  $("compare-b").addEventListener("change", (e) => { $("compare-img-b").src = e.target.value; });
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
