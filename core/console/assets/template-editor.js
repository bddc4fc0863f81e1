// The SMS template editor's live preview: a moment after typing stops, the text is sent to
// the console (with the session's CSRF token, the CSP allows fetches to the console itself
// only) and the rendered sample, its encoding, parts and the characters left are shown.
// Without this script the page still works: saving checks the template on the server.
const form = document.getElementById("template-form");
const area = document.getElementById("body");
const preview = document.getElementById("preview");
const csrf = form.querySelector("input[name=csrf]").value;
const $ = (id) => document.getElementById(id);
let timer;
let asked = 0;
let shown = 0;

function show(r) {
  const sample = r.sample || {};
  const longest = r.longest || {};
  $("preview-text").textContent = r.sample ? sample.text : "";
  $("preview-encoding").textContent = sample.encoding ?? "—";
  $("preview-parts").textContent = sample.parts ?? "—";
  $("preview-left").textContent = sample.leftInPart ?? "—";
  $("preview-budget").textContent = longest.budget ?? "—";
  $("preview-longest-parts").textContent = longest.parts ?? "—";
  $("preview-longest-budget").textContent = longest.budget ?? "—";
  $("preview-longest-left").textContent = longest.leftInBudget ?? "—";
  $("preview-longest").classList.toggle("overdue", r.longest ? !longest.withinBudget : false);
  $("preview-problem").textContent = r.problem;
  $("preview-problem").hidden = r.ok;
  $("preview-unavailable").hidden = true;
  preview.dataset.state = r.ok ? "ok" : "problem";
}

async function update() {
  const mine = ++asked;
  try {
    const res = await fetch(form.dataset.preview, {
      method: "POST",
      body: new URLSearchParams({ csrf, body: area.value }),
      headers: { accept: "application/json" },
      credentials: "same-origin",
      redirect: "error",
    });
    if (!res.ok || !(res.headers.get("content-type") || "").startsWith("application/json")) throw new Error(String(res.status));
    const r = await res.json();
    // An answer to an older text that arrives late is dropped.
    if (mine < shown) return;
    shown = mine;
    show(r);
  } catch {
    if (mine >= shown) $("preview-unavailable").hidden = false;
  }
  preview.dataset.seq = String(mine);
}

area.addEventListener("input", () => {
  // A refusal of the text last posted no longer describes this one: the preview does.
  const refused = document.getElementById("form-error");
  if (refused) refused.hidden = true;
  area.removeAttribute("aria-invalid");
  clearTimeout(timer);
  timer = setTimeout(update, 300);
});
