// Warn before the idle sign-out, with a button to stay signed in (WCAG 2.2.1
// Timing Adjustable: https://www.w3.org/WAI/WCAG22/Understanding/timing-adjustable).
//
// The server keeps the one clock (accounts/session_time.py). The page says how
// long the timeout is; before warning, the script asks the server how long is
// left, so a click in another tab counts and no tab signs out early. When the
// time is up, a page with answers being saved sends them once more: the server
// keeps them in the person's draft as it ends the session, and the sign-in page
// says why they were signed out and what was kept.

// How long is left, in words, as the countdown shows it.
function exactly(seconds) {
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  const parts = [];
  if (minutes) parts.push(`${minutes} minute${minutes === 1 ? "" : "s"}`);
  if (rest || !minutes) parts.push(`${rest} second${rest === 1 ? "" : "s"}`);
  return parts.join(" and ");
}

// How long is left, in fewer words, for screen readers: said when the dialog
// opens, at one minute and at 20 seconds, rather than every second.
function roughly(seconds) {
  if (seconds > 60) return `${Math.ceil(seconds / 60)} minutes`;
  if (seconds > 20) return "1 minute";
  return "20 seconds";
}

export function watchSessionTime({ autosaveForm, autosavePayload }) {
  const body = document.body;
  const dialog = document.getElementById("session-timeout");
  const url = body.dataset.sessionUrl;
  if (!dialog || !url || typeof dialog.showModal !== "function") return;
  const timeout = Number(body.dataset.sessionTimeout);
  const warning = Number(body.dataset.sessionWarning);
  // The server may stamp activity up to this many seconds late.
  const lag = Number(body.dataset.sessionLag) || 0;
  const stayForm = dialog.querySelector("form[data-session-stay]");
  const stayButton = stayForm.querySelector("button");
  const countdown = dialog.querySelector("[data-session-countdown]");
  const announce = dialog.querySelector("[data-session-announce]");
  if (autosaveForm) dialog.querySelector("[data-session-saves]").hidden = false;

  let timer = null;
  let ticker = null;
  let deadline = 0;
  let said = "";
  let returnFocus = null;
  let ending = false;

  const later = (task, seconds) => {
    clearTimeout(timer);
    timer = setTimeout(task, Math.max(0, seconds) * 1000);
  };

  const signIn = (address) => {
    const target = new URL(address, window.location.href);
    target.searchParams.set("next", window.location.pathname + window.location.search);
    window.location.assign(target.href);
  };

  // The seconds left by the server's clock: GET only reads it, POST counts as
  // activity. Null when the page is leaving (to sign in, or to be reloaded).
  const ask = async (method) => {
    const response = await fetch(url, {
      method,
      body: method === "POST" ? new FormData(stayForm) : undefined,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      cache: "no-store",
    });
    if (response.status === 401) {
      signIn((await response.json()).sign_in_url);
      return null;
    }
    if (response.status === 403 && response.headers.get("Content-Type") === "application/json") {
      window.location.reload(); // the gate asks for the second factor again
      return null;
    }
    if (!response.ok) throw new Error(`The session check answered ${response.status}`);
    return (await response.json()).seconds_left;
  };

  const tick = () => {
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    countdown.textContent = `You will be signed out in ${exactly(left)}.`;
    const heard = `You will be signed out in ${roughly(left)}.`;
    if (heard !== said) {
      said = heard;
      announce.textContent = heard;
    }
    if (left <= 0) {
      clearInterval(ticker); // plan() asks the server again a second later
      ticker = null;
    }
  };

  const open = (seconds) => {
    deadline = Date.now() + seconds * 1000;
    if (!dialog.open) {
      returnFocus = document.activeElement;
      said = "";
      dialog.showModal();
      stayButton.focus();
    }
    tick();
    if (!ticker) ticker = setInterval(tick, 1000);
  };

  const close = () => {
    if (dialog.open) dialog.close();
  };

  // Wait, warn, or end, by the server's answer.
  const plan = (left) => {
    if (left === null) return;
    if (left > warning) {
      close();
      later(check, left - warning);
    } else if (left > 0) {
      open(left);
      later(check, left + 1);
    } else {
      timeUp();
    }
  };

  const check = async () => {
    try {
      plan(await ask("GET"));
    } catch {
      later(check, 15); // offline for a moment: ask again shortly
    }
  };

  const stay = async () => {
    try {
      plan(await ask("POST"));
    } catch {
      later(check, 5);
    }
  };

  const timeUp = async () => {
    if (ending) return;
    ending = true;
    clearInterval(ticker);
    clearTimeout(timer);
    if (autosaveForm) {
      try {
        const response = await fetch(
          autosaveForm.getAttribute("action") || window.location.href,
          {
            method: "POST",
            body: autosavePayload(autosaveForm),
            credentials: "same-origin",
            headers: { Accept: "application/json" },
          },
        );
        if (response.redirected) {
          // To sign in, saying what was kept, and back to this page after.
          window.location.assign(response.url);
          return;
        }
        if (response.ok) {
          // Still signed in: another tab kept the session going.
          ending = false;
          check();
          return;
        }
      } catch {
        // Not sent: loading the page below still signs out and says why.
      }
    }
    // Loading the page again ends the session on the server, which sends the
    // browser to sign in, saying why, and back here after. A GET, never a
    // reload, which could send a form again.
    window.location.assign(window.location.pathname + window.location.search);
  };

  dialog.addEventListener("close", () => {
    clearInterval(ticker);
    ticker = null;
    if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
  });
  // Escape closes the dialog: it means "stay signed in".
  dialog.addEventListener("cancel", () => stay());
  stayForm.addEventListener("submit", (event) => {
    event.preventDefault();
    stay();
  });

  later(check, timeout - warning - lag);
}
