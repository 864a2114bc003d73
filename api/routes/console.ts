import fs from 'node:fs';
import path from 'node:path';
import express, { Router, type Response } from 'express';
import type { ImageUrlSigner } from '../../platform/image-urls';

/**
 * The console's browser files: `console/` at the repository root, next to `api/` when run from
 * source and next to `dist/` when run from the build.
 */
const CONSOLE_DIR = [
  path.resolve(__dirname, '../../console'),
  path.resolve(__dirname, '../../../console'),
].find((dir) => fs.existsSync(path.join(dir, 'index.html')));

/**
 * Where the browser may load images from besides this origin: the origin of the URLs this
 * Easel signs (its public URL, or the image store's own with EASEL_IMAGE_DELIVERY=presigned).
 */
function imageOrigins(signer: ImageUrlSigner): string[] {
  try {
    return [new URL(signer.url('console-csp-probe', 'console')).origin];
  } catch {
    return [];
  }
}

/**
 * `GET /console`: the web console (playground, history, account; the accounts back office with the
 * admin token), plain ES modules and a style sheet served by this process. The page speaks only
 * the public and admin HTTP APIs of this origin; its Content-Security-Policy allows nothing else
 * (no inline script or style, nothing from another origin but the signed image URLs).
 */
export function consoleRoutes(options: { imageUrls: ImageUrlSigner }): Router {
  const router = Router();
  const setSecurityHeaders = (res: Response): void => {
    const images = ["'self'", 'data:', 'blob:', ...imageOrigins(options.imageUrls)];
    res.setHeader(
      'Content-Security-Policy',
      [
        "default-src 'self'",
        `img-src ${[...new Set(images)].join(' ')}`,
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ].join('; '),
    );
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
  };
  if (!CONSOLE_DIR) return router;
  const page = fs.readFileSync(path.join(CONSOLE_DIR, 'index.html'), 'utf8');

  router.get('/console', (_req, res) => {
    setSecurityHeaders(res);
    res.setHeader('Cache-Control', 'no-cache');
    // Sent whole each time (no ETag, so no 304): the page is small and must never go stale.
    res.status(200).type('html').end(page);
  });
  router.use(
    '/console/assets',
    (_req, res, next) => {
      setSecurityHeaders(res);
      next();
    },
    express.static(path.join(CONSOLE_DIR, 'assets'), {
      index: false,
      fallthrough: false,
      dotfiles: 'ignore',
      maxAge: '5m',
    }),
  );
  return router;
}
