// The dashboard bench's page in headless Chromium (playwright-core, Debian's /usr/bin/chromium):
// the live overview kept open while jobs complete, with probes in the page that show whether it
// stays responsive (long tasks, how late a 20 ms timer fires, gaps between animation frames, the
// slowest input by Event Timing), how often the overview refetched itself, and clicks on queues
// until their job table shows.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
/** The first row of a queue page's job table. */
const JOB_ROW = 'table.jobs tbody tr';

/** What the page's probes saw since their last reset. */
export interface PageProbe {
  seconds: number;
  /**
   * Tasks over 50 ms (Long Tasks API): how many, the longest, and their time beyond 50 ms summed.
   * Wall-clock times: on a busy machine they include time Chromium's main thread waited for a core.
   */
  longTasks: number;
  longestTaskMs: number;
  blockingMs: number;
  /** How late a timer set every 20 ms fired: the worst case and the 99th percentile (ms). */
  timerLagMaxMs: number;
  timerLagP99Ms: number;
  /** Animation frames a second, the longest gap between two frames, frames that came over 50 ms apart. */
  framesPerSecond: number;
  longestFrameGapMs: number;
  slowFrames: number;
  /** The slowest interaction (click, key), from the event to the next paint (Event Timing; 0: none over 16 ms). */
  slowestInputMs: number;
}

/**
 * Installed before the page's own scripts. A plain script (not a function passed to playwright):
 * what runs in the page must not depend on how the bench itself was compiled.
 */
const PROBES = `(() => {
  const TICK_MS = 20;
  const fresh = () => ({ since: performance.now(), longTasks: 0, longestTask: 0, blocking: 0, lags: [],
    frames: 0, lastFrame: 0, longestGap: 0, slowFrames: 0, slowestInput: 0 });
  let seen = fresh();
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      seen.longTasks += 1;
      seen.longestTask = Math.max(seen.longestTask, entry.duration);
      seen.blocking += Math.max(0, entry.duration - 50);
    }
  }).observe({ type: 'longtask' });
  new PerformanceObserver((list) => {
    // Only a user's interactions (click, tap, key) have an interactionId: not the mouseover events
    // Chromium sends itself when the page changes under a resting pointer.
    for (const entry of list.getEntries())
      if (entry.interactionId > 0) seen.slowestInput = Math.max(seen.slowestInput, entry.duration);
  }).observe({ type: 'event', durationThreshold: 16 });
  let due = performance.now() + TICK_MS;
  const tick = () => {
    const now = performance.now();
    seen.lags.push(Math.max(0, now - due));
    due = now + TICK_MS;
    setTimeout(tick, TICK_MS);
  };
  setTimeout(tick, TICK_MS);
  const frame = (at) => {
    if (seen.lastFrame > 0) {
      const gap = at - seen.lastFrame;
      seen.longestGap = Math.max(seen.longestGap, gap);
      if (gap > 50) seen.slowFrames += 1;
    }
    seen.lastFrame = at;
    seen.frames += 1;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  // The last click's time (its event's timeStamp, on the same clock as performance.now()).
  let clickedAt = 0;
  document.addEventListener('click', (event) => {
    clickedAt = event.timeStamp;
  }, { capture: true });
  let shown;
  globalThis.__benchProbe = {
    /** Watches for the selector; shown() then resolves with ms from the next click to the frame that paints it. */
    arm(selector) {
      clickedAt = 0;
      shown = new Promise((resolve) => {
        const painted = () => requestAnimationFrame((at) => resolve(at - clickedAt));
        const observer = new MutationObserver(() => {
          if (clickedAt > 0 && document.querySelector(selector)) {
            observer.disconnect();
            painted();
          }
        });
        observer.observe(document.body, { childList: true, subtree: true });
      });
    },
    shown() {
      return shown;
    },
    reset() {
      seen = fresh();
    },
    read() {
      const seconds = (performance.now() - seen.since) / 1000;
      const lags = [...seen.lags].sort((a, b) => a - b);
      return {
        seconds,
        longTasks: seen.longTasks,
        longestTaskMs: seen.longestTask,
        blockingMs: seen.blocking,
        timerLagMaxMs: lags.length > 0 ? lags[lags.length - 1] : 0,
        timerLagP99Ms: lags.length > 0 ? lags[Math.min(lags.length - 1, Math.ceil(lags.length * 0.99) - 1)] : 0,
        framesPerSecond: seen.frames / seconds,
        longestFrameGapMs: seen.longestGap,
        slowFrames: seen.slowFrames,
        slowestInputMs: seen.slowestInput,
      };
    },
  };
})();`;

export class LivePage {
  #overviewRequests = 0;

  private constructor(
    private readonly context: BrowserContext,
    private readonly page: Page,
    private readonly profile: string,
  ) {
    page.on('request', (request) => {
      if (request.url().endsWith('/api/overview')) this.#overviewRequests += 1;
    });
  }

  /** Opens the overview in a fresh Chromium profile; undefined when Chromium is not installed. */
  static async open(base: string): Promise<LivePage | undefined> {
    if (!existsSync(CHROMIUM)) return undefined;
    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(process.env.TMPDIR ?? '/tmp', 'qless-bench-chromium-'));
    let context: BrowserContext | undefined;
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
        viewport: { width: 1280, height: 900 },
      });
      await context.addInitScript({ content: PROBES });
      const page = context.pages()[0] ?? (await context.newPage());
      const live = new LivePage(context, page, profile);
      await page.goto(base);
      await page.locator('table.queues').waitFor();
      return live;
    } catch (error) {
      await context?.close();
      rmSync(profile, { recursive: true, force: true });
      throw error;
    }
  }

  /** Requests for api/overview so far (the page's own refetches, and its loads). */
  get overviewRequests(): number {
    return this.#overviewRequests;
  }

  /** Starts the probes' figures afresh. */
  async resetProbes(): Promise<void> {
    await this.page.evaluate('globalThis.__benchProbe.reset()');
  }

  async readProbes(): Promise<PageProbe> {
    return (await this.page.evaluate('globalThis.__benchProbe.read()')) as PageProbe;
  }

  async wait(ms: number): Promise<void> {
    await this.page.waitForTimeout(ms);
  }

  /**
   * From the overview: a click on each queue until its job table shows, then back. Each is timed
   * in the page, from the click event to the animation frame after its first job row is in the
   * document (what the user waits for; playwright's own checks before it clicks are left out).
   */
  async clickQueues(queues: string[]): Promise<number[]> {
    const clicks: number[] = [];
    for (const queue of queues) {
      await this.page.evaluate(`globalThis.__benchProbe.arm(${JSON.stringify(JOB_ROW)})`);
      await this.page.locator('table.queues a', { hasText: queue }).first().click();
      await this.page.locator(JOB_ROW).first().waitFor();
      clicks.push((await this.page.evaluate('globalThis.__benchProbe.shown()')) as number);
      await this.page.goBack();
      await this.page.locator('table.queues').waitFor();
    }
    return clicks;
  }

  async close(): Promise<void> {
    try {
      await this.context.close();
    } finally {
      rmSync(this.profile, { recursive: true, force: true });
    }
  }
}
