// First-load JavaScript of the console, from the build's manifest: the entry chunk and
// every chunk it imports statically, gzipped (level 9) and added up; also the same for the
// signed-in first view (entry + the layout + the overview page, with their static imports).
// UI.md's budget is 400 KB gzipped; this prints the figure (it is a measurement, the
// build does not fail on it). Writes frontend/.build-report.json.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const BUDGET_KB = 400;
const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, "../../src/xindai/web/console");
const manifest = JSON.parse(readFileSync(join(out, ".vite", "manifest.json"), "utf8"));

function closure(keys) {
  const seen = new Set();
  const walk = (key) => {
    if (seen.has(key) || !manifest[key]) return;
    seen.add(key);
    for (const next of manifest[key].imports ?? []) walk(next);
  };
  keys.forEach(walk);
  return [...seen];
}

function measure(keys) {
  const files = [...new Set(closure(keys).map((k) => manifest[k].file))].filter((f) => f.endsWith(".js"));
  let raw = 0;
  let gz = 0;
  for (const file of files) {
    const bytes = readFileSync(join(out, file));
    raw += bytes.length;
    gz += gzipSync(bytes, { level: 9 }).length;
  }
  return { files: files.length, raw_kb: +(raw / 1024).toFixed(1), gzip_kb: +(gz / 1024).toFixed(1) };
}

const entry = Object.keys(manifest).find((k) => manifest[k].isEntry);
const byName = (part) => Object.keys(manifest).find((k) => k.includes(part));
const entryLoad = measure([entry]);
const firstView = measure([entry, byName("layout/AppLayout.vue"), byName("views/overview/OverviewPage.vue")].filter(Boolean));
const report = { budget_kb: BUDGET_KB, entry: entryLoad, signed_in_first_view: firstView };
writeFileSync(resolve(here, "../.build-report.json"), JSON.stringify(report, null, 2) + "\n");
const verdict = (m) => (m.gzip_kb <= BUDGET_KB ? "within" : "OVER");
console.log(
  `first-load JS (entry + static imports): ${entryLoad.gzip_kb} KB gzipped (${entryLoad.raw_kb} KB raw, ${entryLoad.files} files), ${verdict(entryLoad)} the ${BUDGET_KB} KB budget`,
);
console.log(
  `signed-in first view (entry + layout + overview): ${firstView.gzip_kb} KB gzipped (${firstView.raw_kb} KB raw, ${firstView.files} files), ${verdict(firstView)} the budget`,
);
