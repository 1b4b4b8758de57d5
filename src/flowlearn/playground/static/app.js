// flowlearn playground: the page. Every control changes `settings`, which lives in the URL's
// hash and is sent to the server; the server trains and streams what the page draws.
"use strict";

const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REG_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const DATASETS = {
  classification: ["circle", "xor", "gauss", "spiral"],
  regression: ["plane", "multi-gaussian"],
};
const FEATURES = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"];
const FEATURE_LABELS = { "x1": "X1", "x2": "X2", "x1^2": "X1²", "x2^2": "X2²", "x1*x2": "X1X2",
  "sin(x1)": "sin(X1)", "sin(x2)": "sin(X2)" };
const MAX_LAYERS = 6, MAX_NEURONS = 8;
const DEFAULTS = {
  problem: "classification", dataset: "circle", ratio: 50, noise: 0, batch: 10,
  features: ["x1", "x2"], hidden: [4, 2], lr: 0.03, activation: "tanh",
  regularization: "none", reg_rate: 0, seed: 0, show_test: false, discretize: false,
};
const DOMAIN = 6;

let settings = readHash();
let socket = null, playing = false, points = { train: [], test: [] }, last = null;

// ------------------------------------------------------------------ URL state
function readHash() {
  const s = JSON.parse(JSON.stringify(DEFAULTS));
  const params = new URLSearchParams(location.hash.slice(1));
  for (const [key, value] of params) {
    if (!(key in DEFAULTS)) continue;
    const d = DEFAULTS[key];
    if (key === "features") s.features = value ? value.split(",").filter(f => FEATURES.includes(f)) : [];
    else if (key === "hidden") s.hidden = value ? value.split(",").map(Number) : [];
    else if (typeof d === "number") { const n = Number(value); if (Number.isFinite(n)) s[key] = n; }
    else if (typeof d === "boolean") s[key] = value === "1" || value === "true";
    else s[key] = value;
  }
  return sane(s);
}

// A hand-edited or old link cannot break the page: every value is brought back into range.
function sane(s) {
  const clamp = (v, lo, hi, d) => (Number.isFinite(v) ? Math.min(hi, Math.max(lo, Math.round(v))) : d);
  const pick = (v, options, d) => (options.includes(v) ? v : d);
  s.features = FEATURES.filter(f => s.features.includes(f));
  if (!s.features.length) s.features = ["x1"];
  s.hidden = s.hidden.slice(0, MAX_LAYERS).map(w => clamp(w, 1, MAX_NEURONS, 1));
  s.ratio = clamp(s.ratio / 10, 1, 9, 5) * 10;
  s.noise = clamp(s.noise / 5, 0, 10, 0) * 5;
  s.batch = clamp(s.batch, 1, 30, 10);
  s.seed = clamp(s.seed, 0, 2 ** 31 - 1, 0);
  s.lr = LEARNING_RATES.find(r => Math.abs(r - s.lr) < 1e-12) ?? DEFAULTS.lr;
  s.reg_rate = REG_RATES.find(r => Math.abs(r - s.reg_rate) < 1e-12) ?? DEFAULTS.reg_rate;
  s.problem = pick(s.problem, Object.keys(DATASETS), DEFAULTS.problem);
  s.dataset = pick(s.dataset, DATASETS[s.problem], DATASETS[s.problem][0]);
  s.activation = pick(s.activation, ["relu", "tanh", "sigmoid", "linear"], DEFAULTS.activation);
  s.regularization = pick(s.regularization, ["none", "L1", "L2"], DEFAULTS.regularization);
  return s;
}

function writeHash() {
  const p = new URLSearchParams();
  for (const key of Object.keys(DEFAULTS)) {
    const v = settings[key];
    p.set(key, Array.isArray(v) ? v.join(",") : typeof v === "boolean" ? (v ? "1" : "0") : String(v));
  }
  history.replaceState(null, "", "#" + p.toString());
}

function changed() {
  if (!DATASETS[settings.problem].includes(settings.dataset)) settings.dataset = DATASETS[settings.problem][0];
  writeHash();
  renderControls();
  send({ type: "settings", settings });
}

// ------------------------------------------------------------------ socket
function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${proto}://${location.host}/ws`);
  socket.onopen = () => { status("connected"); send({ type: "settings", settings }); };
  socket.onclose = () => status("disconnected from the server: reload the page");
  socket.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.type === "data") { points = msg; drawOutput(); }
    else if (msg.type === "code") document.getElementById("code").textContent = msg.code;
    else if (msg.type === "state") onState(msg);
    else if (msg.type === "export") download(msg);
    else if (msg.type === "error") status("server: " + msg.message);
  };
}

function status(text) { document.getElementById("status").textContent = text; }

function download(msg) {
  const bytes = Uint8Array.from(atob(msg.data), c => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
  const a = document.createElement("a");
  a.href = url; a.download = msg.filename; document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  document.body.dataset.exported = String(bytes.length);
}

// ------------------------------------------------------------------ controls
function option(select, values, current) {
  select.innerHTML = "";
  for (const v of values) {
    const o = document.createElement("option");
    o.value = String(v); o.textContent = String(v);
    if (Math.abs(v - current) < 1e-12) o.selected = true;
    select.appendChild(o);
  }
}

function setupControls() {
  const $ = (id) => document.getElementById(id);
  option($("lr"), LEARNING_RATES, settings.lr);
  option($("reg-rate"), REG_RATES, settings.reg_rate);
  $("lr").onchange = (e) => { settings.lr = Number(e.target.value); changed(); };
  $("reg-rate").onchange = (e) => { settings.reg_rate = Number(e.target.value); changed(); };
  $("activation").onchange = (e) => { settings.activation = e.target.value; changed(); };
  $("regularization").onchange = (e) => { settings.regularization = e.target.value; changed(); };
  $("problem").onchange = (e) => { settings.problem = e.target.value; changed(); };
  for (const id of ["ratio", "noise", "batch"]) {
    $(id).oninput = (e) => { $(id + "-value").textContent = e.target.value; };
    $(id).onchange = (e) => { settings[id] = Number(e.target.value); changed(); };
  }
  $("show-test").onchange = (e) => { settings.show_test = e.target.checked; changed(); drawOutput(); };
  $("discretize").onchange = (e) => { settings.discretize = e.target.checked; changed(); };
  $("regenerate").onclick = () => send({ type: "regenerate" });
  $("reset").onclick = () => { setPlaying(false); send({ type: "reset" }); };
  $("play").onclick = () => { setPlaying(!playing); send({ type: playing ? "play" : "pause" }); };
  $("step").onclick = () => { setPlaying(false); send({ type: "step" }); };
  $("export").onclick = () => send({ type: "export" });
  $("show-code").onclick = () => {
    const code = $("code"); code.hidden = !code.hidden;
    $("show-code").textContent = code.hidden ? "show the code" : "hide the code";
  };
  $("add-layer").onclick = () => {
    if (settings.hidden.length < MAX_LAYERS) { settings.hidden.push(2); changed(); }
  };
  $("remove-layer").onclick = () => {
    if (settings.hidden.length > 0) { settings.hidden.pop(); changed(); }
  };
}

function setPlaying(on) {
  playing = on;
  document.getElementById("play").innerHTML = on ? "&#10074;&#10074; pause" : "&#9654; play";
}

function renderControls() {
  const $ = (id) => document.getElementById(id);
  option($("lr"), LEARNING_RATES, settings.lr);
  option($("reg-rate"), REG_RATES, settings.reg_rate);
  $("activation").value = settings.activation;
  $("regularization").value = settings.regularization;
  $("problem").value = settings.problem;
  for (const id of ["ratio", "noise", "batch"]) { $(id).value = settings[id]; $(id + "-value").textContent = settings[id]; }
  $("show-test").checked = settings.show_test;
  $("discretize").checked = settings.discretize;
  $("layer-count").textContent = settings.hidden.length;
  const box = $("datasets"); box.innerHTML = "";
  for (const name of DATASETS[settings.problem]) {
    const b = document.createElement("button");
    b.className = "dataset" + (name === settings.dataset ? " selected" : "");
    b.dataset.name = name; b.textContent = name;
    b.onclick = () => { settings.dataset = name; changed(); };
    box.appendChild(b);
  }
  buildNetwork();
}

// ------------------------------------------------------------------ network drawing
function canvasNode(cls, size) {
  const c = document.createElement("canvas");
  c.width = size; c.height = size; c.className = cls;
  return c;
}

function buildNetwork() {
  const cols = document.getElementById("columns");
  cols.innerHTML = "";
  const first = document.createElement("div"); first.className = "column"; first.id = "features";
  for (const f of FEATURES) {
    const div = document.createElement("div");
    const on = settings.features.includes(f);
    div.className = "feature" + (on ? "" : " off"); div.dataset.name = f;
    div.appendChild(canvasNode("map", 20));
    const label = document.createElement("span"); label.textContent = FEATURE_LABELS[f];
    div.appendChild(label);
    div.onclick = () => {
      const has = settings.features.includes(f);
      if (has && settings.features.length === 1) return; // at least one input
      settings.features = has ? settings.features.filter(x => x !== f)
        : FEATURES.filter(x => x === f || settings.features.includes(x));
      changed();
    };
    first.appendChild(div);
  }
  cols.appendChild(first);
  settings.hidden.forEach((width, layer) => {
    const col = document.createElement("div"); col.className = "column layer"; col.dataset.layer = layer;
    const head = document.createElement("div"); head.className = "head";
    const plus = document.createElement("button"); plus.textContent = "+"; plus.className = "add-neuron";
    const minus = document.createElement("button"); minus.textContent = "−"; minus.className = "remove-neuron";
    plus.onclick = () => { if (settings.hidden[layer] < MAX_NEURONS) { settings.hidden[layer]++; changed(); } };
    minus.onclick = () => { if (settings.hidden[layer] > 1) { settings.hidden[layer]--; changed(); } };
    const count = document.createElement("span"); count.textContent = `${width} neurons`;
    head.append(plus, minus, count);
    col.appendChild(head);
    for (let j = 0; j < width; j++) {
      const node = document.createElement("div"); node.className = "node";
      node.appendChild(canvasNode("map", 20)); col.appendChild(node);
    }
    cols.appendChild(col);
  });
  if (last) onState(last, true);
}

const ORANGE = [245, 147, 34], WHITE = [232, 234, 235], BLUE = [8, 119, 189];
function colour(v, strength = 1) { // v in [-1, 1]
  const t = Math.min(1, Math.abs(v)) * strength, c = v < 0 ? ORANGE : BLUE;
  return [0, 1, 2].map(i => Math.round(WHITE[i] + (c[i] - WHITE[i]) * t));
}

function decode(b64) {
  const bin = atob(b64), out = new Float32Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i) / 127.5 - 1;
  return out;
}

function paint(canvas, values, strength = 1) {
  const n = Math.round(Math.sqrt(values.length));
  canvas.width = n; canvas.height = n;
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(n, n);
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) {
    // row 0 of the data is x2 = -6: draw it at the bottom
    const [R, G, B] = colour(values[r * n + c], strength), k = ((n - 1 - r) * n + c) * 4;
    img.data[k] = R; img.data[k + 1] = G; img.data[k + 2] = B; img.data[k + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function drawOutput() {
  const canvas = document.getElementById("output"), ctx = canvas.getContext("2d");
  const size = canvas.width;
  ctx.imageSmoothingEnabled = false;
  if (last) {
    const vals = decode(last.maps.output), tmp = document.createElement("canvas");
    paint(tmp, vals, 0.6); // lighter than the points drawn on it, as on the site
    ctx.drawImage(tmp, 0, 0, size, size);
  } else { ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, size, size); }
  const place = (v) => (v + DOMAIN) / (2 * DOMAIN) * size;
  const sets = [["train", points.train]];
  if (settings.show_test) sets.push(["test", points.test]);
  for (const [kind, pts] of sets) for (const [x, y, label] of pts) {
    const [R, G, B] = colour(label);
    ctx.beginPath(); ctx.arc(place(x), size - place(y), 3, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${R},${G},${B})`; ctx.fill();
    ctx.lineWidth = 1; ctx.strokeStyle = kind === "test" ? "#000" : "#fff"; ctx.stroke();
  }
}

function drawChart(history) {
  const canvas = document.getElementById("chart"), ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!history.length) return;
  const max = Math.max(1e-9, ...history.map(h => Math.max(h[1] ?? 0, h[2] ?? 0)));
  const x = (i) => i / Math.max(1, history.length - 1) * canvas.width;
  const y = (v) => canvas.height - (v ?? max) / max * (canvas.height - 4) - 2;
  for (const [col, colour_] of [[1, "#999"], [2, "#000"]]) {
    ctx.beginPath(); ctx.strokeStyle = colour_;
    history.forEach((h, i) => (i ? ctx.lineTo(x(i), y(h[col])) : ctx.moveTo(x(i), y(h[col]))));
    ctx.stroke();
  }
}

function drawLinks(weights) {
  const svg = document.getElementById("links"), box = document.getElementById("network").getBoundingClientRect();
  svg.innerHTML = "";
  const centre = (el, side) => {
    const r = el.getBoundingClientRect();
    return [side === "right" ? r.right - box.left : r.left - box.left, r.top + r.height / 2 - box.top];
  };
  const inputs = [...document.querySelectorAll(".feature")].filter(d => !d.classList.contains("off")).map(d => d.querySelector("canvas"));
  const layers = [...document.querySelectorAll(".column.layer")].map(c => [...c.querySelectorAll(".node canvas")]);
  const columns = [inputs, ...layers, [document.getElementById("output")]];
  weights.forEach((matrix, l) => {
    const from = columns[l], to = columns[l + 1];
    if (!from || !to) return;
    matrix.forEach((row, j) => row.forEach((w, i) => {
      if (!from[i] || !to[j]) return;
      const [x1, y1] = centre(from[i], "right"), [x2, y2] = centre(to[j], "left");
      const line = document.createElementNS("http://www.w3.org/2000/svg", "line");
      line.setAttribute("x1", x1); line.setAttribute("y1", y1); line.setAttribute("x2", x2); line.setAttribute("y2", y2);
      const [R, G, B] = colour(Math.max(-1, Math.min(1, w)));
      line.setAttribute("stroke", `rgb(${R},${G},${B})`);
      line.setAttribute("stroke-width", String(Math.min(6, 0.5 + 2 * Math.abs(w))));
      line.classList.add("link");
      svg.appendChild(line);
    }));
  });
}

function fmt(v) { return v === null || v === undefined ? "-" : v.toFixed(3); }

function onState(msg, redraw) {
  last = msg;
  document.getElementById("epoch").textContent = String(msg.epoch).padStart(6, "0");
  document.getElementById("train-loss").textContent = fmt(msg.train_loss);
  document.getElementById("test-loss").textContent = fmt(msg.test_loss);
  const feats = [...document.querySelectorAll(".feature")].filter(d => !d.classList.contains("off"));
  msg.maps.features.forEach((m, i) => feats[i] && paint(feats[i].querySelector("canvas"), decode(m)));
  const layers = [...document.querySelectorAll(".column.layer")];
  msg.maps.neurons.forEach((layer, l) => layer.forEach((m, j) => {
    const c = layers[l] && layers[l].querySelectorAll(".node canvas")[j];
    if (c) paint(c, decode(m));
  }));
  drawOutput();
  drawChart(msg.history);
  drawLinks(msg.weights);
  document.getElementById("talk").textContent = msg.talk.text;
  document.getElementById("talk").dataset.topic = msg.talk.topic;
  if (!redraw) {
    if (msg.settings.seed !== settings.seed) { settings.seed = msg.settings.seed; writeHash(); }
    if (msg.playing === false && playing && msg.epoch === 0) setPlaying(false);
    document.body.dataset.serverSettings = JSON.stringify(msg.settings);
    document.body.dataset.epoch = String(msg.epoch);
    document.body.dataset.testLoss = msg.test_loss === null ? "" : String(msg.test_loss);
    document.body.dataset.dataVersion = String(msg.data_version);
  }
}

window.addEventListener("hashchange", () => { settings = readHash(); renderControls(); send({ type: "settings", settings }); });
window.addEventListener("DOMContentLoaded", () => {
  setupControls();
  renderControls();
  writeHash();
  connect();
});
