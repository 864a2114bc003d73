import path from 'node:path';
import express, { Router } from 'express';
import type { Catalog } from '../../core/catalog';
import { openApiDocument } from '../openapi/document';

/** Swagger UI's prebuilt browser files (the `swagger-ui-dist` package), served from this process. */
const SWAGGER_UI = path.dirname(require.resolve('swagger-ui-dist/package.json'));

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Easel API reference</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="reference"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

/** Renders /openapi.json; "Try it out" sends requests with the key given under "Authorize". */
const DOCS_SCRIPT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#reference',
  deepLinking: true,
  persistAuthorization: false,
  tryItOutEnabled: false,
  defaultModelsExpandDepth: 0,
});
`;

/**
 * The API described: `GET /openapi.json` (OpenAPI 3.1, generated from the route schemas) and
 * `GET /docs`, a reference page rendered in the browser from it. Nothing is fetched from
 * elsewhere: the page and its scripts come from this process (a strict Content-Security-Policy
 * says so to the browser).
 */
export function referenceRoutes(catalog: Catalog): Router {
  const router = Router();
  // Serialised once: the document only changes with the catalog, which is fixed at start-up.
  const documentJson = JSON.stringify(
    openApiDocument({
      catalog: { models: Object.keys(catalog.models), tasks: Object.keys(catalog.tasks) },
    }),
  );
  const csp =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

  router.get('/openapi.json', (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.type('json').send(documentJson);
  });
  router.get('/docs', (_req, res) => {
    res.setHeader('Content-Security-Policy', csp);
    res.type('html').send(DOCS_PAGE);
  });
  router.get('/docs/init.js', (_req, res) => {
    res.type('application/javascript').send(DOCS_SCRIPT);
  });
  router.use(
    '/docs/assets',
    express.static(SWAGGER_UI, { index: false, fallthrough: false, maxAge: '1h', dotfiles: 'ignore' }),
  );
  return router;
}
