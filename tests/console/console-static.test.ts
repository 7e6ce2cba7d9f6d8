// The console as the API serves it: the built files at /console with a strict CSP (nothing
// inline, nothing from elsewhere), any view's path answered with index.html, a missing asset a
// 404 rather than HTML, and a build that is redone when its sources are newer than it.
import { readFileSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { CONSOLE_CSP } from '../../api/console-static';
import { CONSOLE_DIST, ensureConsoleBuilt } from '../../scripts/lib/console-build';
import { expectProblem, request } from '../support/http';
import { startStack, type TestStack } from '../support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ worker: false });
});
afterAll(() => stack?.close());

test('every view path is index.html under a CSP that allows only this origin and no inline code', async () => {
  for (const view of ['/console/', '/console/reviews', '/console/support?order=x', '/console/operations/deep/link']) {
    const res = await request(stack.url, 'GET', view);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.text).toContain('<div id="app"></div>');
  }
  expect(CONSOLE_CSP).toContain("default-src 'self'");
  expect(CONSOLE_CSP).toContain("script-src 'self'");
  expect(CONSOLE_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);

  // The page itself: scripts and styles only by URL on this origin, none inline.
  const html = (await request(stack.url, 'GET', '/console/')).text;
  const scripts = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)];
  expect(scripts.length).toBeGreaterThan(0);
  for (const [tag, body] of scripts) {
    expect(body!.trim()).toBe('');
    expect(tag).toMatch(/src="\/console\/assets\/[^"]+\.js"/);
  }
  expect(html).not.toMatch(/<style|style="|https?:\/\//);

  const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)![1]!;
  const js = await request(stack.url, 'GET', asset);
  expect(js.status).toBe(200);
  expect(js.headers.get('content-type')).toMatch(/javascript/);
  expect(js.headers.get('cache-control')).toMatch(/immutable/);
});

test('/console redirects to /console/, a missing asset is a 404 problem, settings name the Temporal UI', async () => {
  const bare = await fetch(`${stack.url}/console`, { redirect: 'manual' });
  expect(bare.status).toBe(301);
  expect(bare.headers.get('location')).toBe('/console/');
  expectProblem(await request(stack.url, 'GET', '/console/assets/index-nothere.js'), 404, 'route_not_found');
  const settings = await request(stack.url, 'GET', '/console/settings.json');
  expect(settings.body).toEqual({
    temporalUi: `http://127.0.0.1:${stack.config.TEMPORAL_UI_PORT}`,
    namespace: stack.config.TEMPORAL_NAMESPACE,
  });
  // The console's files are public; the API behind it is not.
  expectProblem(await request(stack.url, 'GET', '/v1/me'), 401, 'unauthenticated');
});

test('the build is redone when a source is newer than the bundle, and left alone otherwise', () => {
  const index = path.join(CONSOLE_DIST, 'index.html');
  expect(ensureConsoleBuilt()).toBe('fresh');
  const before = readFileSync(index, 'utf8');
  const old = new Date(Date.now() - 86_400_000 * 365);
  utimesSync(index, old, old);
  expect(ensureConsoleBuilt()).toBe('built');
  expect(statSync(index).mtimeMs).toBeGreaterThan(old.getTime());
  expect(readFileSync(index, 'utf8')).toBe(before);
  expect(ensureConsoleBuilt()).toBe('fresh');
});
