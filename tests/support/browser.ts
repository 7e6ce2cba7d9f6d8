// A real browser for the console's tests: Debian's Chromium, headless, driven by
// playwright-core, with the flags that keep it from reaching for hosts this network refuses
// (../shared/environment.md). Every page a test opens records its console errors and page
// errors (a CSP refusal is one), and can be checked with axe-core and photographed.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Git-ignored: the tests write every page at both sizes here, for people to look at. */
export const SCREENSHOTS = path.join(__dirname, '..', 'console', 'screenshots');

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export async function launchChromium(): Promise<Browser> {
  try {
    return await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Playwright gives each launch a new, empty profile (--user-data-dir) of its own.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  } catch (err) {
    throw new Error(
      `Chromium did not start from ${CHROMIUM} (install it: apt-get install -y chromium, or set CHROMIUM_PATH): ${
        (err as Error).message
      }`,
    );
  }
}

export interface ConsoleTab {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
  close(): Promise<void>;
}

/**
 * A new browser context (its own session storage) at `viewport`, signed in with `apiKey` when
 * given (the key put in session storage before the page loads, as the sign-in form would).
 */
export async function openConsole(
  browser: Browser,
  baseUrl: string,
  options: { apiKey?: string; viewport?: { width: number; height: number }; path?: string; lang?: 'en' | 'zh' } = {},
): Promise<ConsoleTab> {
  const context = await browser.newContext({ viewport: options.viewport ?? DESKTOP, locale: 'en-GB' });
  await context.addInitScript(
    ({ key, lang }: { key: string | null; lang: string }) => {
      // Runs in the page (no DOM types in the tests' tsconfig).
      type Store = { setItem(k: string, v: string): void };
      const page = globalThis as unknown as { sessionStorage: Store; localStorage: Store };
      if (key) page.sessionStorage.setItem('rp.console.key', key);
      page.localStorage.setItem('rp.console.lang', lang);
    },
    { key: options.apiKey ?? null, lang: options.lang ?? 'en' },
  );
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`page: ${err.message}`));
  await page.goto(`${baseUrl}/console${options.path ?? '/'}`);
  return { context, page, errors, close: () => context.close() };
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * axe-core's serious and critical violations on the page as it is now. The script is
 * evaluated through the DevTools protocol, which the page's CSP does not govern, so the
 * console's own policy stays as strict as it is served.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(`${AXE_SOURCE}\n;undefined`);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (o: object) => Promise<any> } }).axe;
    const result = await axe.run({ resultTypes: ['violations'] });
    return result.violations.map((v: any) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n: any) => n.target.join(' ')),
    }));
  });
  return (violations as AxeViolation[]).filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const size = page.viewportSize();
  await page.screenshot({
    path: path.join(SCREENSHOTS, `${name}-${size?.width ?? 0}x${size?.height ?? 0}.png`),
    fullPage: true,
  });
}
