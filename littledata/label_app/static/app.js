// The labeling page: one text at a time, class buttons with keys 1-9, skip (s), not sure (n),
// undo (u). Every text from the server is set with textContent, never parsed as HTML.
"use strict";
(function () {
  const params = new URLSearchParams(location.search);
  const token = params.get("token");
  const state = { who: params.get("annotator") || localStorage.getItem("littledata-annotator") || "",
                  labels: [], item: null, busy: false };
  const $ = (id) => document.getElementById(id);

  async function api(method, path, body) {
    const headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    const r = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
    const data = await r.json().catch(() => ({ error: "The server answered " + r.status + "." }));
    if (!r.ok) throw new Error(data.error || ("Error " + r.status));
    return data;
  }

  function say(text, isError) {
    $("message").textContent = text || "";
    $("message").className = isError ? "error" : "";
  }

  function show(item) {
    state.item = item;
    $("item").hidden = !item;
    if (!item) { say("Nothing left to label for you. Thank you!"); return; }
    $("text").textContent = item.text;
    $("text").dataset.itemId = String(item.id);
    $("suggestion").textContent = item.suggestion
      ? "Model suggests: " + item.suggestion + " (" + Math.round(item.confidence * 100) + "%)"
      : "No model yet: the first labels start it.";
    for (const b of $("buttons").children) {
      b.classList.toggle("suggested", b.dataset.label === item.suggestion);
    }
  }

  async function act(path, extra) {
    if (state.busy || !state.who) return;
    if (path !== "/api/undo" && !state.item) return;
    state.busy = true;
    try {
      const body = Object.assign({ annotator: state.who }, extra || {});
      if (path !== "/api/undo") body.item_id = state.item.id;
      const data = await api("POST", path, body);
      say("");
      show(data.item);
      refreshStats();
    } catch (e) {
      say(e.message, true);
      if (/not leased|answered already/.test(e.message)) next();
    } finally {
      state.busy = false;
    }
  }

  async function next() {
    try { show((await api("POST", "/api/next", { annotator: state.who })).item); }
    catch (e) { say(e.message, true); }
  }

  function drawCurve(points) {
    const svg = $("curve"), ns = "http://www.w3.org/2000/svg";
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const W = 260, H = 120, pad = 24;
    const axis = document.createElementNS(ns, "path");
    axis.setAttribute("d", `M${pad} 4 V${H - pad} H${W - 4}`);
    axis.setAttribute("stroke", "#999"); axis.setAttribute("fill", "none");
    svg.appendChild(axis);
    if (!points.length) { $("curve-note").textContent = "Appears once two classes have two labels each."; return; }
    const maxN = Math.max(...points.map((p) => p.n_labels), 1);
    const x = (n) => pad + (W - pad - 8) * n / maxN;
    const y = (a) => (H - pad) - (H - pad - 8) * a;
    const line = document.createElementNS(ns, "polyline");
    line.setAttribute("points", points.map((p) => x(p.n_labels) + "," + y(p.cv_accuracy)).join(" "));
    line.setAttribute("stroke", "#2a6fb0"); line.setAttribute("stroke-width", "2"); line.setAttribute("fill", "none");
    svg.appendChild(line);
    for (const p of points) {
      const dot = document.createElementNS(ns, "circle");
      dot.setAttribute("cx", x(p.n_labels)); dot.setAttribute("cy", y(p.cv_accuracy));
      dot.setAttribute("r", "2.5"); dot.setAttribute("fill", "#2a6fb0");
      svg.appendChild(dot);
    }
    for (const [t, xx, yy] of [["0", 2, H - pad], ["1", 8, 12], [String(maxN), W - 30, H - 6]]) {
      const label = document.createElementNS(ns, "text");
      label.setAttribute("x", xx); label.setAttribute("y", yy); label.setAttribute("font-size", "10");
      label.textContent = t; svg.appendChild(label);
    }
    const last = points[points.length - 1];
    $("curve-note").textContent = "Latest: " + (last.cv_accuracy * 100).toFixed(1) + "% with " + last.n_labels + " labels.";
  }

  async function refreshStats() {
    try {
      const s = await api("GET", "/api/stats");
      const body = $("counts").tBodies[0];
      while (body.firstChild) body.removeChild(body.firstChild);
      for (const label of s.labels) {
        const tr = body.insertRow();
        tr.insertCell().textContent = label;
        tr.insertCell().textContent = String(s.per_class[label] || 0);
      }
      $("progress").textContent = s.complete + " of " + s.items + " items done" + (s.training ? " · model training…" : "");
      drawCurve(s.curve);
      $("stopping").textContent = s.stopping.text;
      $("agreement").textContent = s.double.items
        ? "Two annotators agreed on " + s.double.agree + " of " + s.double.items + " items." : "";
    } catch (e) { say(e.message, true); }
  }

  function build() {
    const box = $("buttons");
    state.labels.forEach((label, k) => {
      const b = document.createElement("button");
      b.type = "button"; b.dataset.label = label;
      b.appendChild(document.createTextNode(label + " "));
      if (k < 9) { const kb = document.createElement("kbd"); kb.textContent = String(k + 1); b.appendChild(kb); }
      b.addEventListener("click", () => act("/api/answer", { label }));
      box.appendChild(b);
    });
    $("skip").addEventListener("click", () => act("/api/skip"));
    $("unsure").addEventListener("click", () => act("/api/unsure"));
    $("undo").addEventListener("click", () => act("/api/undo"));
    document.addEventListener("keydown", (ev) => {
      if (ev.target instanceof HTMLInputElement || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      const k = ev.key;
      if (/^[1-9]$/.test(k) && Number(k) <= state.labels.length) act("/api/answer", { label: state.labels[Number(k) - 1] });
      else if (k === "s") act("/api/skip");
      else if (k === "n") act("/api/unsure");
      else if (k === "u" || k === "Backspace") act("/api/undo");
      else return;
      ev.preventDefault();
    });
  }

  function begin() {
    $("who-form").hidden = true;
    $("who-shown").textContent = "Labeling as " + state.who;
    next();
    refreshStats();
    setInterval(refreshStats, 5000);
  }

  async function main() {
    let config;
    try { config = await api("GET", "/api/config"); }
    catch (e) { say(e.message, true); return; }
    state.labels = config.labels;
    build();
    if (config.annotator) {  // a per-annotator token says who this is: no name to type
      state.who = config.annotator;
      begin();
      return;
    }
    $("who-form").hidden = false;  // no token says who this is: they name themself
    $("who").value = state.who;
    $("who-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      state.who = $("who").value.trim();
      localStorage.setItem("littledata-annotator", state.who);
      begin();
    });
    if (state.who) begin(); else $("who").focus();
  }
  main();
})();
