// The markdown plan's Gantt drawn by the real Mermaid in Debian's headless
// Chromium, as GitHub and GitLab draw it when the markdown is pasted there:
//
//   node assess_gantt.js FERRY PNG_DIR      (from the source tree's root)
//
// For each estate below it runs `ferry assess ... --format markdown`, takes
// the ```mermaid block, renders it with mermaid's own browser bundle
// (mermaid.render) and checks what Mermaid drew against the block and against
// the same plan's JSON: no error, one bar per task line with the task's name,
// the `crit` tasks (and only they) drawn as critical, one section per wave plus
// Mobilisation in order, an axis of dates in 2027, every bar starting and
// ending on ferry's dates (so `excludes weekends` counts the working days ferry
// counts), and what must stay legible: no section title over a bar or a task's
// name, no white name spilling out of its bar. It prints what Mermaid drew;
// screenshots go to PNG_DIR/assess-gantt-NAME.png.
// Exits 0 when all hold, 1 on any failure, 2 (skipped) without chromium
// outside CI. mermaid and playwright-core come from $FERRY_BROWSER_MODULES,
// installed by the browser_modules fixture from package-lock.json.
"use strict";
const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");

const kChromium = process.env.FERRY_CHROMIUM || "/usr/bin/chromium";
const kDay = 86400000;

// Two estates whose charts differ: seven waves with data copies and a
// critical path through the last waves; two waves of imported CSVs, no copies.
const kCases = [
  { name: "estate", args: ["examples/estate.yaml"] },
  {
    name: "imports",
    args: ["examples/konveyor-import.csv", "examples/aws-discovery-import.csv",
           "--start", "2027-01-04"],
  },
];

// Lines of a gantt block that are neither sections nor tasks.
const kKeywords = new RegExp("^(title|dateFormat|axisFormat|tickInterval|excludes|includes|" +
                              "todayMarker|weekday|accTitle|accDescr)\\b");

function fail(message) {
  throw new Error(message);
}

// The one ```mermaid block, its sections and its task lines as Mermaid reads
// them: `name :tag, tag, id, start, duration`.
function parseBlock(markdown) {
  const blocks = [...markdown.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)];
  if (blocks.length !== 1) fail(`${blocks.length} mermaid blocks in the markdown, expected 1`);
  const text = blocks[0][1];
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("%%"));
  if (lines[0] !== "gantt") fail(`the block starts with "${lines[0]}", not gantt`);
  const sections = [], tasks = [];
  for (const line of lines.slice(1)) {
    if (kKeywords.test(line)) continue;
    const section = /^section\s+(.+)$/.exec(line);
    if (section) {
      sections.push(section[1]);
      continue;
    }
    const colon = line.indexOf(":");
    if (colon < 0) fail(`a line that is neither keyword, section nor task: "${line}"`);
    const fields = line.slice(colon + 1).split(",").map((f) => f.trim());
    const tags = fields.filter((f) => ["crit", "done", "active", "milestone"].includes(f));
    const [id, start, duration] = fields.slice(tags.length);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(start) || !/^\d+d$/.test(duration)) {
      fail(`task line "${line}": expected id, YYYY-MM-DD start and Nd duration`);
    }
    tasks.push({ name: line.slice(0, colon).trim(), id, crit: tags.includes("crit") });
  }
  return { text, sections, tasks };
}

const dayOf = (iso) => Date.parse(iso + "T00:00:00Z");
const isoOf = (ms) => new Date(ms).toISOString().slice(0, 10);

// What each chart row stands for in the plan's JSON schedule: its first
// working day, the day after its last (where its bar ends), and whether any
// task in it is on the critical path.
function expectedRows(plan) {
  const tasks = plan.schedule.tasks;
  const rows = {};
  const span = (id, list, endDay) => {
    if (!list.length) return;
    const start = Math.min(...list.map((t) => dayOf(t.start)));
    const last = endDay !== undefined ? endDay : Math.max(...list.map((t) => dayOf(t.finish)));
    rows[id] = { start, end: last + kDay, crit: list.some((t) => t.critical) };
  };
  span("mobilisation", tasks.filter((t) => t.kind === "mobilisation"));
  // Each change freeze is a row of its own, in the order the plan lists them.
  plan.schedule.freezes.forEach((z, i) => {
    rows[`freeze${i}`] = { start: dayOf(z.start), end: dayOf(z.finish) + kDay, crit: false };
  });
  for (const wave of plan.waves) {
    const w = wave.index, of = (kind) => tasks.filter((t) => t.kind === kind && t.wave === w);
    span(`w${w}build`, of("build"));
    span(`w${w}copy`, of("sync"));
    for (const kind of ["freeze", "cutover", "hypercare", "decommission"]) span(`w${w}${kind}`, of(kind));
  }
  return rows;
}

// Renders TEXT with mermaid in the page and returns what it drew, measured
// where the browser laid it out.
async function render(page, text) {
  return page.evaluate(async (source) => {
    const out = { errors: [] };
    try {
      mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
      await mermaid.parse(source);
      const { svg } = await mermaid.render("gantt", source);
      document.getElementById("chart").innerHTML = svg;
    } catch (e) {
      out.errors.push(String(e && e.message ? e.message : e));
      return out;
    }
    const root = document.querySelector("#chart svg");
    const edges = (el) => {
      const b = el.getBoundingClientRect();
      return { left: b.left, right: b.right, top: b.top, bottom: b.bottom };
    };
    out.role = root.getAttribute("aria-roledescription");
    out.title = (root.querySelector("text.titleText") || {}).textContent;
    out.bars = [...root.querySelectorAll("rect[id^='gantt-']")]
      .filter((r) => /\btask\b/.test(r.getAttribute("class") || ""))
      .map((r) => {
        const label = root.querySelector(`#${CSS.escape(r.id + "-text")}`);
        return { id: r.id.slice("gantt-".length), cls: r.getAttribute("class"), ...edges(r),
                 name: label ? label.textContent : null, text: label ? edges(label) : null,
                 inside: label ? /\btaskText\b/.test(label.getAttribute("class")) : false };
      });
    out.sections = [...root.querySelectorAll("text.sectionTitle")].map(
        (t) => ({ name: t.textContent, ...edges(t) }));
    out.ticks = [...root.querySelectorAll(".grid .tick")].map((t) => ({
      label: t.querySelector("text").textContent,
      x: t.querySelector("line").getBoundingClientRect().left,
    }));
    out.width = root.getBoundingClientRect().width;
    return out;
  }, text);
}

function check(name, block, plan, drawn) {
  const problems = [];
  const expect = (ok, message) => ok || problems.push(message);
  if (drawn.errors.length) return [`mermaid rejected the block: ${drawn.errors.join("; ")}`];
  expect(drawn.role === "gantt", `drew a "${drawn.role}" diagram, not a gantt`);
  expect(drawn.title === "Migration schedule (working days)", `the title is "${drawn.title}"`);

  // One bar per task line, labelled with the line's name.
  const bars = new Map(drawn.bars.map((b) => [b.id, b]));
  expect(drawn.bars.length === block.tasks.length,
         `${drawn.bars.length} bars for ${block.tasks.length} task lines`);
  for (const t of block.tasks) {
    const bar = bars.get(t.id);
    if (!bar) {
      problems.push(`no bar for task ${t.id} ("${t.name}")`);
      continue;
    }
    // Mermaid keeps the space before the colon; it does not show.
    expect(bar.name !== null && bar.name.trim() === t.name,
           `bar ${t.id} is labelled "${bar.name}", the line says "${t.name}"`);
    // A label drawn inside its bar is white: past the bar's ends it would vanish.
    if (bar.inside && bar.text) {
      expect(bar.text.left >= bar.left - 1 && bar.text.right <= bar.right + 1,
             `"${t.name}" spills out of its bar ${t.id} (text ${bar.text.left.toFixed(0)}..` +
             `${bar.text.right.toFixed(0)}, bar ${bar.left.toFixed(0)}..${bar.right.toFixed(0)})`);
    }
    expect(/\bcrit\d/.test(bar.cls) === t.crit,
           `bar ${t.id} is ${t.crit ? "not " : ""}drawn critical (class "${bar.cls}")`);
  }

  // The plan's critical path, row by row, and its dates.
  const rows = expectedRows(plan);
  expect(Object.keys(rows).sort().join() === block.tasks.map((t) => t.id).sort().join(),
         `chart rows ${block.tasks.map((t) => t.id)} are not the plan's ${Object.keys(rows)}`);
  for (const t of block.tasks) {
    const row = rows[t.id];
    if (row) expect(row.crit === t.crit, `${t.id}: the plan says critical=${row.crit}`);
  }

  // Sections: Mobilisation, the change freezes if any, then one per wave with its label, in order.
  const wanted = ["Mobilisation", ...(plan.schedule.freezes.length ? ["Change freezes"] : []),
                  ...plan.waves.map((w) => `Wave ${w.index} ${w.label}`)];
  expect(block.sections.join("|") === wanted.join("|"),
         `the block's sections ${JSON.stringify(block.sections)} are not ` +
         JSON.stringify(wanted));
  const drawnSections = drawn.sections.map((s) => s.name);
  expect(drawnSections.join("|") === wanted.join("|"),
         `Mermaid drew sections ${JSON.stringify(drawnSections)}, expected ` +
         JSON.stringify(wanted));
  // Titles wider than Mermaid's 75 px gutter reach into the chart; they must
  // not cover a bar or a task's name.
  const overlaps = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 &&
                             a.top < b.bottom - 1 && b.top < a.bottom - 1;
  for (const s of drawn.sections) {
    for (const bar of drawn.bars) {
      expect(!overlaps(s, bar), `section title "${s.name}" covers the bar ${bar.id}`);
      expect(!bar.text || !overlaps(s, bar.text),
             `section title "${s.name}" covers the name of ${bar.id} ("${bar.name}")`);
    }
  }

  // The axis: dates, all in 2027, giving the scale to read the bars with.
  const ticks = drawn.ticks.filter((t) => /^\d{4}-\d{2}-\d{2}$/.test(t.label));
  expect(ticks.length >= 3 && ticks.length === drawn.ticks.length,
         `axis labels ${JSON.stringify(drawn.ticks.map((t) => t.label))} are not dates`);
  expect(ticks.every((t) => t.label.startsWith("2027-")),
         `axis dates outside 2027: ${ticks.map((t) => t.label).join(" ")}`);
  if (ticks.length >= 2) {
    const a = ticks[0], b = ticks[ticks.length - 1];
    const msPerPx = (dayOf(b.label) - dayOf(a.label)) / (b.x - a.x);
    const dateAt = (x) => dayOf(a.label) + (x - a.x) * msPerPx;
    const tolerance = kDay / 4;
    for (const t of block.tasks) {
      const bar = bars.get(t.id), row = rows[t.id];
      if (!bar || !row) continue;
      const start = dateAt(bar.left), end = dateAt(bar.right);
      expect(Math.abs(start - row.start) < tolerance,
             `${t.id} is drawn from ${isoOf(start + kDay / 2)}, ` +
             `the plan starts it ${isoOf(row.start)}`);
      expect(Math.abs(end - row.end) < tolerance,
             `${t.id} is drawn up to ${isoOf(end + kDay / 2)}, ` +
             `the plan ends it before ${isoOf(row.end)}`);
    }
  }
  const crit = drawn.bars.filter((b) => /\bcrit\d/.test(b.cls)).length;
  const axis = ticks.length ? `${ticks[0].label} .. ${ticks[ticks.length - 1].label}` : "";
  console.log(
      `${name}: Mermaid drew ${drawn.bars.length} bars for ${block.tasks.length} task lines ` +
      `(${crit} critical, ${block.tasks.filter((t) => t.crit).length} lines say crit), ` +
      `${drawn.sections.length} sections (${drawnSections.join(", ")}), ` +
      `${ticks.length} axis dates ${axis}, chart ${drawn.width.toFixed(0)} px wide`);
  return problems;
}

async function main() {
  const [ferry, pngDir] = process.argv.slice(2);
  if (!ferry || !pngDir) fail("usage: assess_gantt.js FERRY PNG_DIR");
  if (!fs.existsSync(kChromium)) {
    console.log(`${kChromium} is not installed (scripts/setup installs chromium)`);
    process.exit(process.env.CI ? 1 : 2);
  }
  const modules = process.env.FERRY_BROWSER_MODULES;
  if (!modules) fail("FERRY_BROWSER_MODULES is not set (the browser_modules test installs them)");
  const { chromium } = require(path.join(modules, "playwright-core"));
  const bundle = path.join(modules, "mermaid", "dist", "mermaid.min.js");
  const version = require(path.join(modules, "mermaid", "package.json")).version;
  fs.mkdirSync(pngDir, { recursive: true });

  const browser = await chromium.launch({ executablePath: kChromium,
                                          args: ["--no-sandbox", "--disable-gpu"] });
  let problems = [];
  try {
    for (const c of kCases) {
      const assess = (format) => execFileSync(ferry, ["assess", ...c.args, "--format", format], {
        encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
      const block = parseBlock(assess("markdown"));
      const plan = JSON.parse(assess("json"));
      // UTC, so the axis and ferry's dates agree whatever the machine's zone.
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 },
                                           timezoneId: "UTC" });
      const pageErrors = [];
      page.on("pageerror", (e) => pageErrors.push(e.message));
      await page.setContent('<!doctype html><meta charset="utf-8">' +
                            '<body style="margin:0;background:#fff"><div id="chart"></div></body>');
      await page.addScriptTag({ path: bundle });
      const drawn = await render(page, block.text);
      drawn.errors.push(...pageErrors);
      const png = path.join(pngDir, `assess-gantt-${c.name}.png`);
      fs.rmSync(png, { force: true });
      if (!drawn.errors.length) await page.locator("#chart svg").screenshot({ path: png });
      await page.close();
      problems = problems.concat(check(c.name, block, plan, drawn).map((p) => `${c.name}: ${p}`));
      if (fs.existsSync(png) && fs.statSync(png).size < 20000) {
        problems.push(`${c.name}: ${png} is nearly empty`);
      }
    }
  } finally {
    await browser.close();
  }
  for (const p of problems) console.log(p);
  if (problems.length) process.exit(1);
  console.log(`mermaid ${version} drew every chart as ferry planned it; screenshots in ${pngDir}`);
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
