// First-load JavaScript of the console and of the borrower app, from each build's manifest:
// the entry chunk and every chunk it imports statically, gzipped (level 9) and added up; for
// the console also the signed-in first view (entry + the layout + the overview page, with
// their static imports). UI.md's budgets are 400 KB (console) and 200 KB (app) gzipped;
// this prints the figures (a measurement: the build does not fail on it). A build that is
// not there is skipped with a line saying so. Writes frontend/.build-report.json.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const web = resolve(here, "../../src/xindai/web");

function measurer(out) {
  const manifest = JSON.parse(readFileSync(join(out, ".vite", "manifest.json"), "utf8"));
  const closure = (keys) => {
    const seen = new Set();
    const walk = (key) => {
      if (seen.has(key) || !manifest[key]) return;
      seen.add(key);
      for (const next of manifest[key].imports ?? []) walk(next);
    };
    keys.forEach(walk);
    return [...seen];
  };
  const measure = (keys) => {
    const files = [...new Set(closure(keys).map((k) => manifest[k].file))].filter((f) => f.endsWith(".js"));
    let raw = 0;
    let gz = 0;
    for (const file of files) {
      const bytes = readFileSync(join(out, file));
      raw += bytes.length;
      gz += gzipSync(bytes, { level: 9 }).length;
    }
    return { files: files.length, raw_kb: +(raw / 1024).toFixed(1), gzip_kb: +(gz / 1024).toFixed(1) };
  };
  const entry = Object.keys(manifest).find((k) => manifest[k].isEntry);
  const byName = (part) => Object.keys(manifest).find((k) => k.includes(part));
  return { measure, entry, byName };
}

const verdict = (m, budget) => (m.gzip_kb <= budget ? "within" : "OVER");
const line = (label, m, budget) =>
  `${label}: ${m.gzip_kb} KB gzipped (${m.raw_kb} KB raw, ${m.files} files), ${verdict(m, budget)} the ${budget} KB budget`;
const report = {};

const consoleOut = join(web, "console");
if (existsSync(join(consoleOut, ".vite", "manifest.json"))) {
  const BUDGET = 400;
  const { measure, entry, byName } = measurer(consoleOut);
  const entryLoad = measure([entry]);
  const firstView = measure([entry, byName("layout/AppLayout.vue"), byName("views/overview/OverviewPage.vue")].filter(Boolean));
  report.budget_kb = BUDGET;
  report.entry = entryLoad;
  report.signed_in_first_view = firstView;
  console.log(line("console first-load JS (entry + static imports)", entryLoad, BUDGET));
  console.log(line("console signed-in first view (entry + layout + overview)", firstView, BUDGET));
} else {
  console.log(`console: not built (${consoleOut})`);
}

const appOut = join(web, "app");
if (existsSync(join(appOut, ".vite", "manifest.json"))) {
  const BUDGET = 200;
  const { measure, entry } = measurer(appOut);
  // the login page and 首页 are in the entry (static imports); every other page is a chunk
  const entryLoad = measure([entry]);
  report.app = { budget_kb: BUDGET, entry: entryLoad };
  console.log(line("app first-load JS (entry + static imports: login and 首页)", entryLoad, BUDGET));
} else {
  console.log(`app: not built (${appOut})`);
}

writeFileSync(resolve(here, "../.build-report.json"), JSON.stringify(report, null, 2) + "\n");
