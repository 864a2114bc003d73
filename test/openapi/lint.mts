/**
 * `npm run lint:openapi`: the generated OpenAPI document linted with Redocly's strict recommended
 * rules (which include the OpenAPI 3.1 structure); any problem fails `npm test`.
 */
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { openApiDocument } from '../../api/openapi/document';

async function main(): Promise<void> {
  const config = await createConfig({
    extends: ['recommended-strict'],
    rules: {
      // Health, readiness and the catalog's reads take no input and have no client error to answer.
      'operation-4xx-response': 'off',
    },
  });
  const problems = await lintFromString({
    source: JSON.stringify(openApiDocument(), null, 2),
    absoluteRef: 'openapi.json',
    config,
  });
  for (const p of problems) {
    console.error(`${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer ?? '?'}`);
  }
  if (problems.length > 0) process.exit(1);
  console.log('openapi.json: lint clean (Redocly recommended-strict)');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
