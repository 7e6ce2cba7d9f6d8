// The operator console at /console: the files Vite built (api/console/dist), served with a
// strict Content-Security-Policy — only this origin's own scripts, styles, images and API, no
// inline code, no framing — and any other path under /console answered with index.html, where
// the console's own router takes over. The console holds no secrets: it is the public API's
// client, and everything it shows comes from /v1 with the caller's key.
import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type RequestHandler, Router } from 'express';
import type { Config } from '../infra/config';
import { Problem } from './problem';

export const CONSOLE_DIST = path.join(__dirname, 'console', 'dist');

export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('Content-Security-Policy', CONSOLE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  next();
};

export function consoleRouter(config: Pick<Config, 'TEMPORAL_UI_PORT' | 'TEMPORAL_NAMESPACE'>): Router {
  const router = Router();
  router.use(securityHeaders);

  // Where the console links orders and reviews to their workflows: the Temporal UI on the
  // host the operator reached the API by (the dev server's UI runs beside the API).
  router.get('/settings.json', (req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.json({
      temporalUi: `${req.protocol}://${req.hostname}:${config.TEMPORAL_UI_PORT}`,
      namespace: config.TEMPORAL_NAMESPACE,
    });
  });

  // Built files carry a content hash in their names: cached for good. A missing asset is a
  // 404, never index.html (a stale page asking for an old bundle must not get HTML as script).
  router.use(
    '/assets',
    express.static(path.join(CONSOLE_DIST, 'assets'), { immutable: true, maxAge: '365d', fallthrough: true }),
    (_req, _res, next) => next(new Problem(404, 'route_not_found', 'No such console file')),
  );
  router.use(express.static(CONSOLE_DIST, { index: false, maxAge: 0 }));

  const page: RequestHandler = (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    // /console → /console/, so the page's relative asset base holds.
    if (req.originalUrl.split('?')[0] === '/console') return res.redirect(301, '/console/');
    const index = path.join(CONSOLE_DIST, 'index.html');
    if (!existsSync(index)) {
      throw new Problem(503, 'console_not_built', 'The console is not built: `npm start` builds it');
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  };
  router.use(page);
  return router;
}
