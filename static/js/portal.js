// Progressive enhancement only: every page works without JavaScript.
import { initAll } from "../build/govuk-frontend.min.js";
import { watchSessionTime } from "./session-timeout.js";

initAll();

// Save long forms in the background while people type, so a timeout, a lost
// connection or a closed tab loses at most the last few seconds. The server
// keeps the page's answers exactly as typed (see referrals.services.draft_save).
const AUTOSAVE_DELAY_MS = 4000;

// What an autosave sends: the form as it stands, without files.
function autosavePayload(form) {
  const data = new FormData(form);
  for (const input of form.querySelectorAll("input[type=file]")) {
    data.delete(input.name);
  }
  data.set("action", "autosave");
  return data;
}

function autosave(form) {
  const status = document.getElementById(form.dataset.autosaveStatus);
  // Not `form.action`: the form's buttons are named "action", and a named
  // control shadows the form's property of the same name.
  // https://html.spec.whatwg.org/multipage/forms.html#the-form-element
  const url = form.getAttribute("action") || window.location.href;
  const revision = form.querySelector("input[name=revision]");
  let timer = null;
  let dirty = false;
  let inFlight = false;
  let stopped = false; // the page was submitted, or saved elsewhere

  const payload = () => autosavePayload(form);

  const say = (text) => {
    if (status) status.textContent = text;
  };

  // One save at a time, each carrying the section's revision the server last
  // gave us: a save overtaken by a real one is refused, never applied late.
  const save = async () => {
    timer = null;
    if (!dirty || stopped) return;
    if (inFlight) {
      timer = setTimeout(save, AUTOSAVE_DELAY_MS);
      return;
    }
    dirty = false;
    inFlight = true;
    try {
      const response = await fetch(url, {
        method: "POST",
        body: payload(),
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        redirect: "manual",
      });
      if (response.ok) {
        const result = await response.json();
        if (revision && result.revision !== undefined) {
          revision.value = String(result.revision);
        }
        const time = new Date().toLocaleTimeString("en-GB", {
          hour: "2-digit",
          minute: "2-digit",
        });
        say(`Your answers were saved at ${time}.`);
      } else if (response.status === 409) {
        stopped = true;
        say(
          "This section was saved in another window, so we stopped saving this page " +
            "automatically. Select ‘Save and continue’ to keep what is on this page.",
        );
      } else {
        dirty = true;
        say(
          "Your answers could not be saved automatically. You may need to sign in " +
            "again: sign in in a new tab, then select ‘Save and continue’ here.",
        );
      }
    } catch {
      dirty = true;
    } finally {
      inFlight = false;
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
    stopped = true;
    if (timer) clearTimeout(timer);
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden" && dirty && !stopped && !inFlight) {
      dirty = false;
      // No reply comes back to a beacon: count the save it will make.
      if (navigator.sendBeacon(url, payload()) && revision) {
        revision.value = String(Number(revision.value) + 1);
      }
    }
  });
}

for (const form of document.querySelectorAll("form[data-autosave]")) {
  autosave(form);
}

watchSessionTime({
  autosaveForm: document.querySelector("form[data-autosave]"),
  autosavePayload,
});

// Show progress while large files upload. The form posts exactly as it would
// without JavaScript; the reply (the share's page, or the form with errors)
// then takes the place of this page's main content, so nothing behaves
// differently but the progress bar.
function uploadWithProgress(form) {
  const box = form.querySelector(".portal-upload-progress");
  const bar = box && box.querySelector("progress");
  const status = box && box.querySelector("[data-upload-status]");
  if (!bar || !window.XMLHttpRequest || !window.FormData) {
    return;
  }
  let sending = false;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (sending) {
      return; // one upload per click, however many clicks
    }
    sending = true;
    box.hidden = false;
    const request = new XMLHttpRequest();
    request.open("POST", form.getAttribute("action") || window.location.href);
    request.upload.addEventListener("progress", (progress) => {
      if (progress.lengthComputable) {
        const percent = Math.round((progress.loaded / progress.total) * 100);
        bar.value = percent;
        status.textContent = `${percent}% uploaded`;
      }
    });
    request.upload.addEventListener("load", () => {
      status.textContent = "Uploaded. Checking the files…";
    });
    request.addEventListener("load", () => {
      // The reply is a whole page: the share (after the redirect) or the form
      // with its errors. Swap in its title and main content, move the address
      // to where the reply came from, and start its components.
      const reply = new DOMParser().parseFromString(
        request.responseText,
        "text/html",
      );
      const main = reply.getElementById("main-content");
      if (!main) {
        window.location.reload();
        return;
      }
      if (request.responseURL && request.responseURL !== window.location.href) {
        window.history.pushState(null, "", request.responseURL);
      }
      document.title = reply.title;
      document.getElementById("main-content").replaceWith(main);
      initAll({ scope: main });
      for (const next of main.querySelectorAll("form[data-upload-progress]")) {
        uploadWithProgress(next);
      }
      const summary = main.querySelector(".govuk-error-summary");
      if (!summary) {
        main.setAttribute("tabindex", "-1");
        main.focus();
      }
    });
    request.addEventListener("error", () => {
      sending = false;
      status.textContent =
        "The upload failed. Check your connection and try again.";
    });
    request.send(new FormData(form));
  });
}

for (const form of document.querySelectorAll("form[data-upload-progress]")) {
  uploadWithProgress(form);
  // The reply moved the address on (pushState): going back reloads that page.
  window.addEventListener("popstate", () => window.location.reload());
}
