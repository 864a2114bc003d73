import fs from 'node:fs';
import path from 'node:path';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import prettier from 'prettier';
import { openApiDocument } from '../../api/openapi/document';

/** Where the console's type-check reads the API's shapes from. */
export const CONSOLE_API_TYPES = path.resolve(__dirname, '..', '..', 'console', 'openapi.d.ts');

/**
 * The console's view of the API, generated from the OpenAPI document the API serves, so that
 * `tsc -p console` checks the console against the answers the routes really send (a hand-written
 * copy drifts). Committed; `npm run console:types` writes it again after the document changes,
 * and a unit test (which runs this with `--check`) fails while it is stale. A development tool:
 * tsconfig.build.json leaves infra/console out of the build (its imports are devDependencies).
 */
export async function consoleApiTypes(): Promise<string> {
  // The document is built as plain JSON (Record<string, unknown>); openapi-typescript types it.
  const ast = await openapiTS(openApiDocument() as unknown as OpenAPI3);
  const text =
    '// Generated from the OpenAPI document by `npm run console:types` (infra/console/api-types.ts): do not edit.\n\n' +
    astToString(ast);
  // Formatted as the repository's other files are, so that `prettier --check` passes it as written.
  const options = await prettier.resolveConfig(CONSOLE_API_TYPES);
  return prettier.format(text, { ...options, filepath: CONSOLE_API_TYPES });
}

/** `--check`: exit 1, saying what to run, when the committed file is not what the document gives. */
async function main(check: boolean): Promise<void> {
  const text = await consoleApiTypes();
  const where = path.relative(process.cwd(), CONSOLE_API_TYPES);
  if (!check) {
    fs.writeFileSync(CONSOLE_API_TYPES, text);
    console.log(`console API types: ${where}`);
    return;
  }
  const committed = fs.existsSync(CONSOLE_API_TYPES) ? fs.readFileSync(CONSOLE_API_TYPES, 'utf8') : '';
  if (committed !== text) {
    console.error(`${where} is not what the OpenAPI document gives today: run \`npm run console:types\`.`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main(process.argv.includes('--check')).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
