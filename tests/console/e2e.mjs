// Drives the console at <experience url>/console in headless Chromium, as a person would:
// sign up, upload a CSV, parse it and see its table, chat with the content liaison, watch an
// execution appear live in the timeline, delete the file (which waits for approval), approve
// it, and see the file gone. Fails on any browser console error.
// Usage: node e2e.mjs <experience base url> [screenshot dir]

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = process.argv[2];
const shots = process.argv[3] || null;
if (!base) {
  console.error("usage: node e2e.mjs <experience base url> [screenshot dir]");
  process.exit(2);
}

const CSV = "order_id,region,amount\n1,north,10\n2,south,20\n3,north,35\n4,east,5\n";
const profile = mkdtempSync(join(tmpdir(), "symphainy-console-"));
const problems = [];
let context;
let page;

function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
}

async function shot(page, name) {
  if (!shots) return;
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
}

try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1366, height: 860 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  context.setDefaultTimeout(30000);
  page = context.pages()[0] || (await context.newPage());
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => {
    // A socket the console closes on leaving a page is not a failure.
    if (!r.url().startsWith("ws")) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });

  // 1. Sign up.
  await page.goto(`${base}/console`);
  await page.getByRole("heading", { name: "Sign in to the Symphainy console" }).waitFor();
  await shot(page, "signin");
  const email = `ada+${Date.now()}@example.com`;
  const signup = page.getByRole("form", { name: "Create an account" });
  await signup.getByLabel("Name").fill("Ada Lovelace");
  await signup.getByLabel("Email").fill(email);
  await signup.getByLabel("Password (8 characters or more)").fill("correct horse 42");
  await signup.getByRole("button", { name: "Create account" }).click();

  // 2. Sessions: the one opened at sign-up.
  await page.getByRole("heading", { name: "Sessions" }).waitFor();
  const sessionLink = page.getByRole("table").getByRole("link").first();
  await sessionLink.waitFor();
  check((await page.getByText("Ada Lovelace").count()) === 1, "the header names the user");
  await shot(page, "sessions");
  await sessionLink.click();
  await page.getByRole("status").filter({ hasText: "open" }).waitFor();

  // 3. Files: upload a CSV with its progress, then parse it and read its table.
  await page.getByRole("navigation", { name: "Session" }).getByRole("link", { name: "Files" }).click();
  await page.getByLabel("File", { exact: true }).setInputFiles({
    name: "sales.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(CSV),
  });
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  const result = page.getByRole("region", { name: "Result" });
  await result.getByRole("heading", { name: /Upload of sales\.csv\s+completed/ }).waitFor();
  const row = page.getByRole("row").filter({ hasText: "sales.csv" });
  await row.waitFor();
  await row.getByRole("button", { name: "Parse" }).click();
  await result.getByRole("heading", { name: /Parse sales\.csv\s+completed/ }).waitFor();
  const columns = result.getByRole("table").filter({ has: page.getByText("Columns", { exact: true }) });
  await columns.waitFor();
  for (const [name, type] of [["order_id", "integer"], ["region", "string"], ["amount", "integer"]]) {
    const r = columns.getByRole("row").filter({ hasText: name });
    check((await r.textContent()).includes(type), `column ${name} is ${type}: ${await r.textContent()}`);
  }
  const records = result.getByRole("table").filter({ has: page.getByText("First 4 of 4 records") });
  await records.waitFor();
  const cells = await records.getByRole("row").nth(3).getByRole("cell").allTextContents();
  check(JSON.stringify(cells) === JSON.stringify(["3", "north", "35"]), `third record ${JSON.stringify(cells)}`);
  // The chart of the first column, then of region: north twice.
  await result.getByLabel("Chart a column").selectOption("region");
  const chart = result.getByRole("img", { name: /Distribution of region over 4 records/ });
  await chart.waitFor();
  check((await chart.getAttribute("aria-label")).includes("north: 2"), "north counted twice");
  await row.getByRole("button", { name: "Preview" }).waitFor();
  await shot(page, "files");

  // Quality: a table of its measures.
  await row.getByRole("button", { name: "Quality" }).click();
  await result.getByRole("heading", { name: /Quality of sales\.csv\s+completed/ }).waitFor();
  const measures = result.getByRole("table").filter({ has: page.getByText("Quality", { exact: true }) });
  await measures.getByRole("row").filter({ hasText: "completeness" }).filter({ hasText: "100.0 %" }).waitFor();

  // Combine with a second file on their shared key.
  await page.getByLabel("File", { exact: true }).setInputFiles({
    name: "regions.csv",
    mimeType: "text/csv",
    buffer: Buffer.from("region,manager\nnorth,Grace\nsouth,Alan\neast,Edsger\n"),
  });
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await result.getByRole("heading", { name: /Upload of regions\.csv\s+completed/ }).waitFor();
  await page.getByRole("row").filter({ hasText: "regions.csv" }).waitFor();
  await page.getByLabel("First file").selectOption({ label: "sales.csv" });
  await page.getByLabel("Second file").selectOption({ label: "regions.csv" });
  await page.getByRole("button", { name: "Combine" }).click();
  await result.getByRole("heading", { name: /Combine\s+completed/ }).waitFor();
  const joined = result.getByRole("table").filter({ has: page.getByText(/records$/) }).last();
  await joined.getByRole("row").filter({ hasText: "Grace" }).first().waitFor();
  await shot(page, "combine");

  // 4. Chat with the content liaison.
  await page.getByRole("navigation", { name: "Session" }).getByRole("link", { name: "Chat" }).click();
  await page.getByRole("radio", { name: "Content" }).check();
  await page.getByLabel("Message").fill("what files do I have?");
  await page.getByRole("button", { name: "Send" }).click();
  const log = page.getByRole("log", { name: "Conversation" });
  await log.getByText("what files do I have?").waitFor();
  const answer = log.locator(".bubble.agent:not(.pending)").last();
  await answer.waitFor();
  const said = await answer.textContent();
  check(said.includes("sales.csv"), `the liaison names the file: ${said}`);
  // The execution the turn started, inline in its answer.
  await answer.getByRole("link", { name: /list_files/ }).waitFor();
  await shot(page, "chat");

  // 5. The timeline, live: an execution started elsewhere appears without a reload.
  await page.getByRole("navigation", { name: "Session" }).getByRole("link", { name: "Timeline" }).click();
  const timeline = page.getByRole("list", { name: "Session timeline" });
  await timeline.getByRole("link", { name: /parse_content/ }).first().waitFor();
  const echoes = await timeline.getByRole("link", { name: /^echo/ }).count();
  check(echoes === 0, "no echo yet");
  const sessionId = page.url().split("/session/")[1].split("/")[0];
  await page.evaluate(async (sid) => {
    const who = JSON.parse(sessionStorage.getItem("symphainy.console"));
    await fetch("/api/intent/submit", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${who.access_token}` },
      body: JSON.stringify({ intent_type: "echo", session_id: sid, parameters: { message: "live" } }),
    });
  }, sessionId);
  const echo = timeline.getByRole("listitem").filter({ has: page.getByRole("link", { name: /^echo/ }) });
  await echo.filter({ hasText: "completed" }).waitFor();
  await shot(page, "timeline");

  // 6. Execution detail: the parse's steps, artifacts and events.
  await timeline.getByRole("link", { name: /parse_content/ }).first().click();
  await page.getByRole("heading", { name: /parse_content/ }).waitFor();
  await page.getByRole("table").filter({ has: page.getByText("Steps", { exact: true }) }).waitFor();
  await page.getByRole("button", { name: "Retry" }).waitFor();
  await page.getByRole("table").filter({ has: page.getByText("First 4 of 4 records") }).waitFor();
  await shot(page, "execution");
  await page.goBack();

  // 7. Delete the file: it waits for approval; approve it; the file is gone.
  await page.getByRole("navigation", { name: "Session" }).getByRole("link", { name: "Files" }).click();
  await page.getByRole("row").filter({ hasText: "sales.csv" }).getByRole("button", { name: "Delete" }).click();
  await result.getByRole("heading", { name: /Delete sales\.csv\s+awaiting approval/ }).waitFor();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Approvals" }).click();
  const pending = page.getByRole("row").filter({ hasText: "delete_file" });
  await pending.waitFor();
  await shot(page, "approvals");
  await pending.getByRole("button", { name: "Approve" }).click();
  await page.getByText("Approved.").waitFor();
  await page.getByText("Nothing is waiting for approval.").waitFor();
  await page.goBack();
  await page.getByRole("navigation", { name: "Session" }).getByRole("link", { name: "Files" }).click();
  await page.getByRole("row").filter({ hasText: "regions.csv" }).waitFor();
  await page.getByRole("row").filter({ hasText: "sales.csv" }).waitFor({ state: "detached" });

  // Keyboard: the skip link is the first stop and focuses the content.
  await page.reload();
  await page.getByRole("row").filter({ hasText: "regions.csv" }).waitFor();
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => document.activeElement.textContent);
  check(focused === "Skip to content", `first tab stop: ${focused}`);

  if (problems.length) throw new Error(problems.join("\n"));
  console.log("console e2e: ok");
} catch (err) {
  console.error(String(err && err.stack ? err.stack : err));
  // What the page showed when it failed.
  if (page) {
    const text = await page.evaluate(() => document.body.innerText).catch(() => "");
    console.error(`--- the page at ${page.url()}:\n${text}`);
  }
  if (problems.length) console.error(problems.join("\n"));
  process.exitCode = 1;
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}
