// Progressive enhancement only: every page works without JavaScript.
import { initAll } from "../build/govuk-frontend.min.js";

initAll();

// Save long forms in the background while people type, so a timeout, a lost
// connection or a closed tab loses at most the last few seconds. The server
// keeps the page's answers exactly as typed (see referrals.services.draft_save).
const AUTOSAVE_DELAY_MS = 4000;

function autosave(form) {
  const status = document.getElementById(form.dataset.autosaveStatus);
  let timer = null;
  let dirty = false;

  const payload = () => {
    const data = new FormData(form);
    for (const input of form.querySelectorAll("input[type=file]")) {
      data.delete(input.name);
    }
    data.set("action", "autosave");
    return data;
  };

  const save = async () => {
    timer = null;
    if (!dirty) return;
    dirty = false;
    try {
      const response = await fetch(form.action || window.location.href, {
        method: "POST",
        body: payload(),
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        redirect: "manual",
      });
      if (response.ok) {
        const time = new Date().toLocaleTimeString("en-GB", {
          hour: "2-digit",
          minute: "2-digit",
        });
        if (status) status.textContent = `Your answers were saved at ${time}.`;
      } else if (status) {
        status.textContent =
          "Your answers could not be saved automatically. You may need to sign in again: " +
          "sign in in a new tab, then select ‘Save and continue’ here.";
      }
    } catch {
      dirty = true;
    }
  };

  const changed = () => {
    dirty = true;
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, AUTOSAVE_DELAY_MS);
  };

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", () => {
    dirty = false;
    if (timer) clearTimeout(timer);
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden" && dirty) {
      dirty = false;
      navigator.sendBeacon(form.action || window.location.href, payload());
    }
  });
}

for (const form of document.querySelectorAll("form[data-autosave]")) {
  autosave(form);
}
