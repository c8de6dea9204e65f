// Drives the page in Debian's chromium (headless, WebGPU on SwiftShader) as a user would: for
// each model, pick it (or the built-in network), pick the photo, read the top 5 the page shows,
// and compare them with what the native engine gave for the same image and weights.
//
// node web/test.mjs URL CASES.json SCREENSHOT.png
// CASES.json: [{"name", "model": path or null, "f16": bool (the f16-weights checkbox), "photo": path,
//               "expected": [{"class", "label", "probability"}]}]
// Then a photo and a model that are not what they claim, and a browser without WebGPU, must each
// end in an error on the page, and the page must keep no stale state: no result panel before any
// photo, no earlier top 5 after a bad photo, and after a bad model file the model before it still
// loaded, its photo picker open. Prints one line per check and a final summary line; exits 1 on
// any difference.

import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

// Probabilities may differ by float rounding only: the browser runs the same kernels, but on
// another adapter (SwiftShader through Chromium's WebGPU) with its own variant choices.
const RELATIVE_TOLERANCE = 1e-4;
const TIMEOUT_MS = 4 * 60 * 1000;

const [url, casesPath, screenshot] = process.argv.slice(2);
const cases = JSON.parse(readFileSync(casesPath, "utf8"));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--enable-unsafe-webgpu",
    "--enable-features=Vulkan",
    "--use-vulkan=swiftshader",
    "--use-angle=swiftshader",
    // This machine's network is closed: no background connections to refuse.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
  ],
});

const failures = [];
let largestError = 0;
let pageChecks = 0;
// One check of what the page shows: a line, and a failure unless `ok`.
const check = (what, ok, detail) => {
  pageChecks += 1;
  console.log(`${what}: ${ok ? "as it should be" : "NOT AS IT SHOULD BE"}: ${detail}`);
  if (!ok) failures.push(`${what}: ${detail}`);
};
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 1100 } });
  page.on("pageerror", (error) => console.log(`page error: ${error.message}`));
  page.on("console", (message) => message.type() === "error" && !message.text().includes("404") && console.log(`page console: ${message.text()}`));
  await page.goto(url);
  const mark = () => markPage(page);
  const settled = async (states) => {
    const [state, message] = await settledState(page, states);
    if (state === "error") throw new Error(message);
  };
  await settled(["ready", "error"]); // the page opens the built-in network by itself
  check("before any photo", !(await page.isVisible("#result")) && !(await page.isVisible("#preview")), "no result panel, no empty image");
  const rejected = await page.evaluate(compileEveryKernel);
  console.log(`Chromium's WGSL compiler: ${rejected.length ? rejected.join("\n  ") : "every kernel makes a pipeline"}`);
  failures.push(...rejected);
  for (const [i, testCase] of cases.entries()) {
    try {
      if (testCase.model || i > 0) {
        if ((await page.isChecked("#f16-weights")) !== Boolean(testCase.f16)) {
          // Switching the weight precision loads the current model again; then the case's own.
          await mark();
          await page.setChecked("#f16-weights", Boolean(testCase.f16));
          await settled(["ready", "error"]);
        }
        await mark();
        if (testCase.model) await page.setInputFiles("#model-file", testCase.model);
        else await page.click("#builtin");
        await settled(["ready", "error"]);
      }
      await mark();
      await page.setInputFiles("#photo", testCase.photo);
      await settled(["done", "error"]);
      const result = JSON.parse(await page.textContent("#result-json"));
      const differences = compare(result.predictions, testCase.expected);
      const modules = result.modules ? `${result.modules.length} parts timed` : "no per-module times";
      console.log(`${testCase.name}: ${differences.length ? "DIFFERENT" : "same top 5"}; ${result.run_ms.toFixed(0)} ms per image on the page (first run ${result.first_run_ms.toFixed(0)} ms); ${modules}`);
      differences.forEach((d) => console.log(`  ${d}`));
      failures.push(...differences.map((d) => `${testCase.name}: ${d}`));
    } catch (error) {
      console.log(`${testCase.name}: FAILED: ${error.message}`);
      failures.push(`${testCase.name}: ${error.message}`);
    }
  }
  await page.screenshot({ path: screenshot, fullPage: true });

  // What a user sees for a file the engine cannot read, and for a browser without WebGPU.
  const refused = async (page, what, act, words) => {
    await markPage(page);
    await act();
    const [state, message] = await settledState(page, ["ready", "done", "error"]);
    const ok = state === "error" && words.every((word) => message.includes(word));
    console.log(`${what}: ${ok ? "refused on the page" : "NOT REFUSED AS IT SHOULD BE"}: ${message || state}`);
    if (!ok) failures.push(`${what}: state ${state}, message ${JSON.stringify(message)}`);
  };
  const file = (name, text) => ({ name, mimeType: "application/octet-stream", buffer: Buffer.from(text) });
  await refused(page, "a photo that is not an image", () => page.setInputFiles("#photo", file("broken.png", "not a PNG")), ["broken.png"]);
  const stale = (await page.isVisible("#result")) || (await page.textContent("#result-json")) !== "";
  check("after a bad photo", !stale, "the previous photo's top 5 is gone");
  await refused(page, "a model that is not ONNX", () => page.setInputFiles("#model-file", file("broken.onnx", "\x08\xff\xff\xff\xff\x0f")), ["broken.onnx"]);
  // The model before it is still loaded: the photo picker stays open, and a photo gets its top 5.
  const loaded = cases.at(-1);
  const pickerOpen = await page.isEnabled("#photo");
  let againDifferences = ["the photo picker is disabled"];
  if (pickerOpen) {
    await markPage(page);
    await page.setInputFiles("#photo", loaded.photo);
    const [state, message] = await settledState(page, ["done", "error"]);
    againDifferences = state === "done" ? compare(JSON.parse(await page.textContent("#result-json")).predictions, loaded.expected) : [message];
  }
  check("after a bad model file", againDifferences.length === 0, `${loaded.name} still loaded, the photo classified as before${againDifferences.length ? `: ${againDifferences.join("; ")}` : ""}`);
  const bare = await browser.newPage();
  await bare.addInitScript(() => delete Navigator.prototype.gpu);
  await refused(bare, "a browser without WebGPU", () => bare.goto(url), ["WebGPU"]);
} finally {
  await browser.close();
}

console.log(
  failures.length
    ? `web test FAILED: ${failures.length} difference(s) in ${cases.length} models, 3 bad inputs and ${pageChecks} page states`
    : `web test passed: ${cases.length} models, identical top 5, probabilities within ${RELATIVE_TOLERANCE} relative (largest ${largestError.toExponential(1)}); 3 bad inputs refused on the page; ${pageChecks} page states as they should be`,
);
process.exit(failures.length ? 1 : 0);

// Marks the page before an action, so that a wait sees the state the action leads to.
function markPage(page) {
  return page.evaluate(() => (document.body.dataset.state = "test-acting"));
}

// Waits for one of `states`; the state reached and the page's error message.
async function settledState(page, states) {
  await page.waitForFunction((states) => states.includes(document.body.dataset.state), states, { timeout: TIMEOUT_MS });
  return page.evaluate(() => [document.body.dataset.state, document.getElementById("error").textContent]);
}

// In the page: a pipeline of every kernel through the browser's compiler (Tint), which rejects
// some things naga lets through, on a device with WebGPU's default limits; the messages of those
// it rejects.
async function compileEveryKernel() {
  const { kernel_sources } = await import("./pkg/googlenet_web.js");
  const device = await (await navigator.gpu.requestAdapter()).requestDevice();
  const rejected = [];
  for (const { kernel, source, entry_point, constants } of JSON.parse(kernel_sources())) {
    device.pushErrorScope("validation");
    const module = device.createShaderModule({ code: source });
    device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: entry_point, constants } });
    const error = await device.popErrorScope();
    if (error) rejected.push(`${kernel}: ${error.message}`);
  }
  device.destroy();
  return rejected;
}

function compare(page, native) {
  const differences = [];
  if (page.length !== native.length) differences.push(`${page.length} classes on the page, ${native.length} native`);
  native.forEach((expected, rank) => {
    const got = page[rank];
    if (!got) return;
    if (got.class !== expected.class) differences.push(`rank ${rank + 1}: class ${got.class} on the page, ${expected.class} native`);
    const error = Math.abs(got.probability - expected.probability) / Math.abs(expected.probability);
    largestError = Math.max(largestError, error);
    if (!(error <= RELATIVE_TOLERANCE)) differences.push(`rank ${rank + 1}: probability ${got.probability} on the page, ${expected.probability} native (relative error ${error.toExponential(2)})`);
  });
  return differences;
}
