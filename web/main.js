// The page: pick a model (or the built-in one), drop a photo, see its top 5 and where the time
// went. `document.body.dataset.state` says where it stands (loading, ready, running, done,
// error) and `#result-json` holds the last result, for people and for web/test.sh alike.

import init, { Demo } from "./pkg/googlenet_web.js";

const $ = (id) => document.getElementById(id);
let demo = null;
// The loaded model, loaded again when the weight precision changes.
let current = { name: null, bytes: null, f16: false };

function setState(state, message) {
  document.body.dataset.state = state;
  $("status").textContent = message;
  $("photo").disabled = !(state === "ready" || state === "done");
  $("f16-weights").disabled = state === "loading" || state === "running";
}

function showError(what, error) {
  const text = error instanceof Error ? error.message : String(error);
  const message = text.startsWith(what) ? text : `${what}: ${text}`;
  $("error").textContent = message;
  $("error").hidden = false;
  setState("error", demo ? "Something went wrong; the model is still loaded, try another file." : "Something went wrong.");
  if (demo) $("photo").disabled = false;
  console.error(message);
}

// Lets the page paint the status before a step that keeps the main thread busy.
const painted = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

async function loadModel(name, bytes) {
  const f16 = $("f16-weights").checked;
  // What stays loaded if this model cannot be: photos still go to it.
  const before = { demo, current, description: $("model").textContent };
  $("error").hidden = true;
  clearResult();
  demo = null;
  setState("loading", `Reading ${name ?? "the built-in network"} and opening the WebGPU adapter…`);
  await painted();
  try {
    const opened = await Demo.open(name, bytes, f16);
    $("adapter").textContent = `Adapter: ${await adapterName()} — ${opened.adapter()}`;
    $("model").textContent = (name ? `${name}: ${opened.model()}` : opened.model()) + (f16 ? ", f16 weights" : "");
    setState("loading", "Compiling the kernels and uploading the weights…");
    await painted();
    const started = performance.now();
    const dispatches = opened.prepare();
    demo = opened;
    current = { name, bytes, f16 };
    const prepared = Math.round(performance.now() - started);
    $("model").textContent += `; ${dispatches} dispatches, kernel variants ${opened.variants()}`;
    setState("ready", `Ready: prepared in ${prepared} ms. Drop a photo.`);
  } catch (error) {
    ({ demo, current } = before);
    $("model").textContent = before.description;
    $("f16-weights").checked = current.f16;
    showError(name ?? "the built-in network", error);
  }
}

// Hides the last photo's result and empties its top 5 and times, so none stays beside what follows.
function clearResult() {
  $("result").hidden = true;
  $("result-json").textContent = "";
  $("top5").tBodies[0].replaceChildren();
  $("modules").tBodies[0].replaceChildren();
  $("timing").textContent = "";
}

// What the browser says of its adapter (wgpu's own description of it is mostly empty).
async function adapterName() {
  const info = (await navigator.gpu.requestAdapter())?.info;
  const words = info ? [info.vendor, info.architecture, info.description].filter(Boolean) : [];
  return words.length ? words.join(" ") : "unnamed WebGPU adapter";
}

async function classify(file) {
  if (!demo) return;
  $("error").hidden = true;
  clearResult();
  setState("running", `Classifying ${file.name}…`);
  if ($("preview").src) URL.revokeObjectURL($("preview").src);
  $("preview").src = URL.createObjectURL(file);
  await painted();
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const result = JSON.parse(await demo.classify(file.name, bytes, 5));
    show(result);
    $("result-json").textContent = JSON.stringify(result);
    setState("done", `${file.name}: classified in ${result.run_ms.toFixed(0)} ms.`);
  } catch (error) {
    showError(file.name, error);
  }
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const [content, kind] of cells) {
    const td = document.createElement("td");
    if (kind) td.className = kind;
    if (content instanceof Node) td.append(content);
    else td.textContent = content;
    tr.append(td);
  }
  return tr;
}

function bar(fraction) {
  const div = document.createElement("div");
  div.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  return div;
}

function show(result) {
  $("top5").tBodies[0].replaceChildren(
    ...result.predictions.map((p) => row([[p.label], [bar(p.probability), "bar"], [p.probability.toFixed(4), "number"]])),
  );
  $("timing").textContent =
    `One run (upload, every kernel, read-back): ${result.run_ms.toFixed(1)} ms; the first took ${result.first_run_ms.toFixed(1)} ms (with the browser's shader compiles).`;
  const modules = result.modules ?? [];
  const total = modules.reduce((sum, m) => sum + m.ms, 0);
  $("modules").tBodies[0].replaceChildren(
    ...(modules.length
      ? modules.map((m) => row([[m.name], [bar(m.ms / total), "bar"], [`${m.ms.toFixed(2)} ms`, "number"]]))
      : [row([["This adapter offers no timestamp queries: no per-module times."]])]),
  );
  $("result").hidden = false;
}

function wire() {
  $("builtin").addEventListener("click", () => loadModel(null, null));
  $("f16-weights").addEventListener("change", () => loadModel(current.name, current.bytes));
  // Each input is emptied once read, so that picking the same file again (a photo for another
  // model) is a change too.
  $("model-file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (file) loadModel(file.name, new Uint8Array(await file.arrayBuffer()));
  });
  $("photo").addEventListener("change", (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (file) classify(file);
  });
  const drop = $("drop");
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    const file = event.dataTransfer.files[0];
    if (file) classify(file);
  });
}

async function start() {
  wire();
  if (!navigator.gpu) {
    showError("WebGPU", "this browser offers no WebGPU (navigator.gpu is missing). Use a recent Chrome or Edge; on Linux start Chromium with --enable-unsafe-webgpu.");
    return;
  }
  try {
    await init();
  } catch (error) {
    showError("loading the engine (pkg/googlenet_web.wasm; build it with web/build.sh)", error);
    return;
  }
  await loadModel(null, null);
}

start();
