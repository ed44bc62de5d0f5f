// LeadSonar dashboard: one ES module, no dependencies, no build step (docs/dashboard.md).
// Every value from the server is written with textContent, never as HTML.

const API = "/api/v1";
const KEY_STORE = "leadsonar.key";
const VIEWS = ["credits", "lookup", "bulk", "providers", "keys"];
const POLL_MS = 1500;

const $ = (selector) => document.querySelector(selector);
let pollTimer = null;
let chosenFile = null;

// ---- API -------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function apiKey() {
  return sessionStorage.getItem(KEY_STORE);
}

async function api(path, { method = "GET", json, body, raw = false } = {}) {
  const headers = { Authorization: `Bearer ${apiKey()}` };
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  const response = await fetch(API + path, { method, headers, body });
  if (response.status === 401) {
    signOut("Your key was refused (missing, invalid or revoked). Sign in again.");
    throw new ApiError(401, "The key was refused.");
  }
  if (!response.ok) {
    let message = `The server answered ${response.status}.`;
    try {
      const data = await response.json();
      if (data && data.error) message = data.error;
    } catch (_) {
      /* not JSON */
    }
    throw new ApiError(response.status, message);
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

// ---- small DOM helpers -----------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function badge(value) {
  if (value === null || value === undefined || value === "") return "–";
  return el("span", { class: `badge ${value}` }, value);
}

function when(value) {
  if (!value) return "–";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

function say(message) {
  $("#status").textContent = message;
}

function rows(tbody, items) {
  tbody.replaceChildren(...items);
}

// ---- sign-in and navigation ------------------------------------------------------------------

function signOut(message = "") {
  sessionStorage.removeItem(KEY_STORE);
  stopPolling();
  $("#nav").hidden = true;
  show("signin");
  $("#signin-error").textContent = message;
}

async function signIn(event) {
  event.preventDefault();
  const key = $("#signin-key").value.trim();
  $("#signin-error").textContent = "";
  if (!key) {
    $("#signin-error").textContent = "Enter an API key.";
    return;
  }
  sessionStorage.setItem(KEY_STORE, key);
  try {
    await api("/credits");
  } catch (error) {
    sessionStorage.removeItem(KEY_STORE);
    $("#signin-error").textContent =
      error.status === 401 ? "That key was refused: check it, or create a new one." : error.message;
    return;
  }
  $("#signin-key").value = "";
  $("#nav").hidden = false;
  if (!VIEWS.includes(location.hash.slice(1))) location.hash = "#credits";
  else route();
}

function show(view) {
  for (const section of document.querySelectorAll(".view")) {
    section.hidden = section.id !== `view-${view}`;
  }
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function route() {
  stopPolling();
  if (!apiKey()) {
    show("signin");
    $("#signin-key").focus();
    return;
  }
  $("#nav").hidden = false;
  const view = VIEWS.includes(location.hash.slice(1)) ? location.hash.slice(1) : "credits";
  show(view);
  say("");
  const load = { credits: loadCredits, lookup: () => {}, bulk: loadJobs, providers: loadProviders, keys: loadKeys }[view];
  Promise.resolve(load()).catch((error) => say(error.message));
}

// ---- credits ---------------------------------------------------------------------------------

async function loadCredits() {
  const credits = await api("/credits");
  $("#credits-balance").textContent = credits.balance;
  $("#credits-earned").textContent = credits.totalEarned;
  $("#credits-spent").textContent = credits.totalSpent;
  let days = [];
  try {
    const usage = await api("/credits/usage?days=30");
    // days with activity, newest first
    days = (usage.days || []).filter((day) => day.spent || day.refunded || day.granted).reverse();
  } catch (error) {
    if (error.status !== 404) throw error;
  }
  rows(
    $("#usage-table tbody"),
    days.map((day) => el("tr", {}, el("td", {}, day.date), el("td", {}, day.spent), el("td", {}, day.refunded), el("td", {}, day.granted)))
  );
  $("#usage-empty").hidden = days.length > 0;
}

// ---- single lookup ---------------------------------------------------------------------------

function resultCard(title, fields) {
  const list = el("dl");
  for (const [label, value] of fields) {
    list.append(el("dt", {}, label), el("dd", {}, value ?? "–"));
  }
  return el("article", { class: "card", "aria-label": title }, el("h2", {}, title), list);
}

async function lookup(event) {
  event.preventDefault();
  const form = event.target;
  const body = {
    firstName: form.firstName.value.trim(),
    lastName: form.lastName.value.trim(),
  };
  if (form.website.value.trim()) body.website = form.website.value.trim();
  if (form.company.value.trim()) body.company = form.company.value.trim();
  const wantEmail = $("#lk-email").checked;
  const wantPhone = $("#lk-phone").checked;
  $("#lookup-error").textContent = "";
  if (!body.website && !body.company) {
    $("#lookup-error").textContent = "Give a website or a company name.";
    return;
  }
  if (!wantEmail && !wantPhone) {
    $("#lookup-error").textContent = "Choose email, phone or both.";
    return;
  }
  const results = $("#lookup-results");
  results.replaceChildren();
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  say("Looking up…");
  try {
    if (wantEmail) {
      const answer = await api("/find-email", { method: "POST", json: body });
      results.append(
        resultCard("Email", [
          ["Email", answer.email],
          ["Confidence", badge(answer.confidence)],
          ["Verification", badge(answer.verification)],
          ["Domain", answer.domain],
          ["Provider", answer.provider],
          ["Reason", answer.reason],
          ["Credits used", answer.credits_used],
        ])
      );
    }
    if (wantPhone) {
      const answer = await api("/find-phone", { method: "POST", json: body });
      results.append(
        resultCard("Phone", [
          ["Phone", answer.phone],
          ["Type", answer.type],
          ["Company phone", answer.companyPhone],
          ["Confidence", badge(answer.confidence)],
          ["Domain", answer.domain],
          ["Reason", answer.reason],
          ["Credits used", answer.credits_used],
        ])
      );
    }
    say("Done.");
  } catch (error) {
    $("#lookup-error").textContent = error.message;
    say("");
  } finally {
    button.disabled = false;
  }
}

// ---- bulk ------------------------------------------------------------------------------------

function fileBody() {
  // The options travel as form fields beside the file (POST /enrich/file, multipart).
  const data = new FormData();
  const mode = document.querySelector("input[name=mode]:checked").value;
  data.append("file", chosenFile, chosenFile.name);
  data.append("mode", mode);
  data.append("source", "dashboard");
  if (mode === "enrich") {
    data.append("findEmail", $("#bulk-email").checked ? "true" : "false");
    data.append("findPhone", $("#bulk-phone").checked ? "true" : "false");
  }
  return data;
}

async function preview() {
  const box = $("#bulk-preview");
  $("#bulk-error").textContent = "";
  $("#bulk-start").disabled = true;
  box.replaceChildren();
  if (!chosenFile) return;
  say("Reading the file…");
  try {
    const quote = await api("/enrich/file?dryRun=true", { method: "POST", body: fileBody() });
    const mapping = el("tbody");
    for (const [field, column] of Object.entries(quote.columns || {})) {
      mapping.append(el("tr", {}, el("td", {}, field), el("td", {}, column ?? "–")));
    }
    box.append(
      el(
        "dl",
        { class: "figures", id: "bulk-quote" },
        el("div", {}, el("dt", {}, "Rows"), el("dd", { id: "quote-rows" }, quote.rows)),
        el("div", {}, el("dt", {}, "Credits needed"), el("dd", { id: "quote-credits" }, quote.credits_needed)),
        el("div", {}, el("dt", {}, "Your balance"), el("dd", { id: "quote-balance" }, quote.balance))
      ),
      el(
        "table",
        { class: "mapping" },
        el("caption", {}, `Column mapping for ${chosenFile.name}`),
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Field"), el("th", { scope: "col" }, "Column in the file"))),
        mapping
      )
    );
    if (quote.duplicates || quote.skipped) {
      const notes = [];
      if (quote.duplicates) notes.push(`${quote.duplicates} repeated rows are looked up once and charged once`);
      if (quote.skipped) notes.push(`${quote.skipped} rows cannot be used (${quote.skippedReasons.join("; ")})`);
      box.append(el("p", { class: "hint" }, `${notes.join("; ")}.`));
    }
    const affordable = quote.enough !== false;
    $("#bulk-start").disabled = !affordable;
    if (!affordable) $("#bulk-error").textContent = "Not enough credits for this file.";
    say("");
  } catch (error) {
    $("#bulk-error").textContent = error.message;
    say("");
  }
}

async function startJob(event) {
  event.preventDefault();
  if (!chosenFile) return;
  $("#bulk-start").disabled = true;
  try {
    const job = await api("/enrich/file", { method: "POST", body: fileBody() });
    say(`Job ${job.jobId} started: ${job.total} rows.`);
    chosenFile = null;
    $("#bulk-file").value = "";
    $("#bulk-preview").replaceChildren();
    await loadJobs();
  } catch (error) {
    $("#bulk-error").textContent = error.message;
    $("#bulk-start").disabled = false;
  }
}

async function download(job) {
  const response = await api(`/enrich/${encodeURIComponent(job.jobId)}/results.csv`, { raw: true });
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: `${job.jobId}.csv` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function cancel(job) {
  if (!confirm(`Cancel job ${job.jobId}? Rows not yet worked are refunded.`)) return;
  await api(`/enrich/${encodeURIComponent(job.jobId)}/cancel`, { method: "POST" });
  say(`Job ${job.jobId} cancelled.`);
  await loadJobs();
}

function jobRow(job) {
  const done = job.completed ?? 0;
  const running = job.status === "processing" || job.status === "queued";
  const actions = el("td");
  actions.append(
    el("button", { type: "button", class: "secondary", onclick: () => download(job).catch((e) => say(e.message)) }, "Download CSV")
  );
  if (running) {
    actions.append(el("button", { type: "button", class: "secondary", onclick: () => cancel(job).catch((e) => say(e.message)) }, "Cancel"));
  }
  return el(
    "tr",
    { "data-job": job.jobId },
    el("td", {}, el("code", {}, job.jobId)),
    el("td", {}, job.source ?? "api"),
    el("td", { class: "job-status" }, badge(job.status)),
    el(
      "td",
      {},
      el("progress", { max: job.total || 1, value: done, "aria-label": `${done} of ${job.total} done` }),
      ` ${done}/${job.total}`
    ),
    el("td", {}, when(job.createdAt)),
    actions
  );
}

async function loadJobs() {
  const page = await api("/enrich?limit=50");
  const jobs = page.jobs || page.items || [];
  rows($("#jobs-table tbody"), jobs.map(jobRow));
  $("#jobs-empty").hidden = jobs.length > 0;
  stopPolling();
  if (jobs.some((job) => job.status === "processing" || job.status === "queued")) {
    pollTimer = setTimeout(() => loadJobs().catch((error) => say(error.message)), POLL_MS);
  }
}

function stopPolling() {
  if (pollTimer !== null) clearTimeout(pollTimer);
  pollTimer = null;
}

function chooseFile(file) {
  chosenFile = file || null;
  preview();
}

// ---- providers -------------------------------------------------------------------------------

function health(provider) {
  const stats = provider.stats || {};
  const parts = [`${stats.calls ?? 0} calls`, `${stats.hits ?? 0} hits`];
  if (stats.errors) parts.push(`${stats.errors} errors`);
  if (stats.timeouts) parts.push(`${stats.timeouts} timeouts`);
  if (stats.latencyP50Ms !== null && stats.latencyP50Ms !== undefined) parts.push(`p50 ${stats.latencyP50Ms} ms`);
  if (provider.breaker && provider.breaker !== "closed") parts.push(`breaker ${provider.breaker}`);
  if (stats.lastErrorClass) parts.push(`last error: ${stats.lastErrorClass}`);
  return parts.join(", ");
}

async function loadProviders() {
  const data = await api("/providers");
  rows(
    $("#providers-table tbody"),
    (data.providers || []).map((provider) =>
      el(
        "tr",
        {},
        el("th", { scope: "row" }, provider.name),
        el("td", {}, provider.kind),
        el("td", {}, (provider.fields || []).join(", ")),
        el("td", {}, badge(provider.status)),
        el("td", {}, health(provider)),
        el("td", {}, provider.reason ?? "–")
      )
    )
  );
}

// ---- keys ------------------------------------------------------------------------------------

async function loadKeys() {
  const data = await api("/keys");
  const keys = data.keys || [];
  rows(
    $("#keys-table tbody"),
    keys.map((key) => {
      const actions = el("td");
      if (key.active) {
        actions.append(
          el(
            "button",
            {
              type: "button",
              class: "secondary",
              "aria-label": `Revoke key ${key.prefix}`,
              onclick: () => revoke(key.prefix, key.current).catch((error) => say(error.message)),
            },
            "Revoke"
          )
        );
      }
      return el(
        "tr",
        { "data-prefix": key.prefix },
        el("td", {}, el("code", {}, key.prefix), key.current ? " (this session)" : ""),
        el("td", {}, when(key.createdAt)),
        el("td", {}, key.active ? badge("active") : badge("revoked")),
        el("td", {}, when(key.revokedAt)),
        actions
      );
    })
  );
}

async function createKey(event) {
  event.preventDefault();
  $("#key-error").textContent = "";
  try {
    const created = await api("/keys", { method: "POST" });
    $("#new-key-value").textContent = created.key;
    $("#new-key-value").dataset.prefix = created.prefix;
    $("#new-key").hidden = false;
    await loadKeys();
  } catch (error) {
    $("#key-error").textContent = error.message;
  }
}

async function revoke(prefix, current) {
  const warning = current ? " This is the key you are signed in with: you will be signed out." : "";
  if (!confirm(`Revoke key ${prefix}?${warning}`)) return;
  await api(`/keys/${encodeURIComponent(prefix)}`, { method: "DELETE" });
  say(`Key ${prefix} revoked.`);
  if (current) signOut("You revoked the key this session used.");
  else await loadKeys();
}

// ---- wiring ----------------------------------------------------------------------------------

function wire() {
  $("#signin-form").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", () => signOut());
  $("#lookup-form").addEventListener("submit", lookup);
  $("#bulk-form").addEventListener("submit", startJob);
  $("#bulk-file").addEventListener("change", (event) => chooseFile(event.target.files[0]));
  for (const input of document.querySelectorAll("#bulk-form input[name=mode], #bulk-email, #bulk-phone")) {
    input.addEventListener("change", preview);
  }
  const drop = $("#drop");
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer.files.length) chooseFile(event.dataTransfer.files[0]);
  });
  $("#key-form").addEventListener("submit", createKey);
  $("#copy-key").addEventListener("click", () => navigator.clipboard?.writeText($("#new-key-value").textContent));
  window.addEventListener("hashchange", route);
  route();
}

wire();
