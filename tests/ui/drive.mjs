// Drives Debian's Chromium (headless) through `sealcam ui` for
// tests/tests/viewer/ui.rs. Usage: node drive.mjs URL TILES SCREENSHOT_DIR
// Prints one JSON object per line: {"step": ...}. After "live-ready" the test
// records an event; this waits for its tile.
import { chromium } from "playwright-core";

const [url, tilesArg, shots] = process.argv.slice(2);
const tiles = Number(tilesArg);
const say = (o) => console.log(JSON.stringify(o));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const failures = [];
  page.on("pageerror", (e) => failures.push(String(e)));
  await page.goto(url);
  await page.waitForFunction((n) => document.querySelectorAll(".tile").length >= n, tiles, { timeout: 30000 });
  // Every thumbnail settled: a picture or a warning, no placeholder left.
  await page.waitForFunction(() => [...document.querySelectorAll(".frame")].every((f) => !f.textContent.includes("…")), null, { timeout: 30000 });
  await page.waitForFunction(() => [...document.querySelectorAll("img.thumb")].every((i) => i.complete), null, { timeout: 30000 });
  const timeline = await page.evaluate(() => ({
    path: location.pathname,
    tiles: document.querySelectorAll(".tile").length,
    decoded: [...document.querySelectorAll("img.thumb")].filter((i) => i.naturalWidth > 0).length,
    types: [...document.querySelectorAll(".tile .type")].map((t) => t.textContent),
    warnings: [...document.querySelectorAll(".frame .warning")].map((w) => ({
      event: w.closest(".tile").dataset.event,
      status: w.dataset.status,
      text: w.textContent,
      img: w.closest(".tile").querySelectorAll("img").length,
    })),
    days: document.querySelectorAll("section.day").length,
  }));
  await page.screenshot({ path: `${shots}/ui-timeline.png`, fullPage: true });
  say({ step: "timeline", ...timeline });

  // Play a clip, then seek.
  const tile = page.locator('.tile[data-status="verified"]:not(.refused)').first();
  await tile.click();
  const video = page.locator("#video");
  await video.evaluate((v) => new Promise((ok, fail) => {
    if (v.readyState >= 1) return ok();
    v.addEventListener("loadedmetadata", ok, { once: true });
    v.addEventListener("error", () => fail(new Error(`video error ${v.error && v.error.code}`)), { once: true });
  }));
  const played = await video.evaluate(async (v) => {
    await v.play();
    const start = performance.now();
    while (v.currentTime < 0.3 && performance.now() - start < 10000) await new Promise((r) => setTimeout(r, 50));
    const playing = v.currentTime;
    v.currentTime = 3.0;
    await new Promise((r) => v.addEventListener("seeked", r, { once: true }));
    const afterSeek = v.currentTime;
    await new Promise((r) => setTimeout(r, 800));
    return { duration: v.duration, playing, afterSeek, later: v.currentTime, paused: v.paused, error: v.error && v.error.code };
  });
  await page.screenshot({ path: `${shots}/ui-player.png` });
  say({ step: "clip", ...played });
  await page.click("#close");

  // Live: the test records an event now.
  const before = await page.evaluate(() => document.querySelectorAll(".tile").length);
  say({ step: "live-ready", tiles: before });
  const appeared = await page
    .waitForFunction((n) => document.querySelectorAll(".tile").length > n, before, { timeout: 20000 })
    .then(() => true, () => false);
  const newest = await page.evaluate(() => {
    const t = document.querySelector(".tile .type");
    return t ? t.textContent : null;
  });
  say({ step: "live", appeared, newest, failures });
} finally {
  await browser.close();
}
