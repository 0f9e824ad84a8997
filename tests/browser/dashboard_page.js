// The run dashboard's page in Debian's headless Chromium, driven as a person
// would use it (tests/run_dashboard_browser_test.cc runs it):
//
//   node dashboard_page.js dom URL STATE [PNG]
//     waits until the page shows the run as STATE, prints the page's DOM as
//     its script built it, and with PNG takes a 1400x1000 screenshot
//   node dashboard_page.js press URL WHO
//     waits for the approval the run waits at, types WHO as "acting as",
//     presses Approve, then Abort and its confirmation, waits for both in
//     the audit log as queued for the engine, and prints one JSON line of
//     what the page showed
//
// Why not `chromium --dump-dom --virtual-time-budget`: virtual time stands
// still while a request is open, and the page's event stream always is.
// Exits 1 on any failure. playwright-core (no browser of its own) comes from
// $FERRY_BROWSER_MODULES, installed by the test's fixture from package-lock.json.
"use strict";
const path = require("path");
const { chromium } = require(path.join(process.env.FERRY_BROWSER_MODULES, "playwright-core"));

async function dom(page, url, state, png) {
  await page.goto(url);
  await page.waitForFunction((s) => document.getElementById("run-state").textContent === s, state,
                             { timeout: 10000 });
  // Let the rest of the snapshot's rendering and the first tick happen.
  await page.waitForTimeout(1200);
  if (png) await page.screenshot({ path: png });
  console.log(await page.content());
}

async function press(page, url, who) {
  await page.goto(url);
  await page.waitForSelector("#approve:not([disabled])", { timeout: 10000 });
  const shown = {
    address: await page.evaluate(() => location.pathname + location.search),
    state: await page.textContent("#run-state"),
  };
  await page.fill("#who", who);
  await page.click("#approve");
  await page.waitForFunction(() => /approve queued by/.test(document.getElementById("notice").textContent));
  await page.click("#abort");
  await page.waitForSelector("#abort-confirm.shown");
  await page.click("#abort-yes");
  await page.waitForFunction(() => document.querySelectorAll("#log tr.queued").length === 2, null,
                             { timeout: 10000 });
  shown.queued = await page.$$eval("#log tr.queued", (rows) => rows.map((r) => r.textContent));
  return shown;
}

async function main() {
  const [action, url, arg, png] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.FERRY_CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    if (action === "dom") return await dom(page, url, arg, png);
    if (action !== "press") throw new Error("usage: dashboard_page.js dom|press URL ARG [PNG]");
    const shown = await press(page, url, arg);
    shown.errors = errors;
    console.log(JSON.stringify(shown));
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
