import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * Source edits applied to FerretDB v1.24.2 when the dev stack builds it, on a copy of the
 * module (the module cache stays untouched). Each edit must match its file as often as it says, so a
 * version bump that moves the code fails the build loudly instead of building an unpatched server.
 */
interface SourcePatch {
  /** File inside the FerretDB module. */
  file: string;
  find: string;
  replace: string;
  /** How many times `find` occurs (default 1); every occurrence is replaced. */
  occurrences?: number;
}

export const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';

export const FERRETDB_PATCHES: SourcePatch[] = [
  {
    // The SQLite backend creates the `_id` index on `_ferretdb_sjson->"_id"` but every lookup,
    // update and delete by `_id` filters on `_ferretdb_sjson->'$._id'` (metadata.IDColumn). SQLite
    // only uses an expression index for the very same expression, so each of those scanned the
    // whole table and jobs slowed down as collections grew. Index the expression the queries use.
    file: 'internal/backends/sqlite/metadata/registry.go',
    find: `			columns[i] = fmt.Sprintf("%s->%s", DefaultColumn, strings.Join(fields, "->"))
`,
    replace: `			columns[i] = fmt.Sprintf("%s->%s", DefaultColumn, strings.Join(fields, "->"))
			if key.Field == "_id" {
				columns[i] = IDColumn // easel: the expression lookups by _id use
			}
`,
  },
  {
    // A lookup by `_id` reaches SQLite as `WHERE <_id> = ?` only when `_id` is the filter's one
    // key, so `{_id, status}` (a conditional update) read the whole collection. Every handler
    // filters the backend's rows again with the complete filter, so narrowing the read to the one
    // document with that `_id` is exact whatever else the filter says. (Query and Explain.)
    file: 'internal/backends/sqlite/collection.go',
    find: `	if params.Filter.Len() == 1 {
		v, _ := params.Filter.Get("_id")
`,
    replace: `	if params.Filter.Len() > 0 && params.Filter.Has("_id") { // easel: push _id down whatever else the filter holds
		v, _ := params.Filter.Get("_id")
`,
    occurrences: 2,
  },
];

/**
 * Copies the FerretDB module to `workDir`, applies the patches there, and returns an alternate
 * go.mod (for `go build -modfile`) that replaces the module with that copy. `go build -overlay`
 * refuses files in the module cache, and the repo's own go.mod stays the plain, pinned one.
 */
export async function preparePatchedFerretdb(
  goModuleDir: string,
  workDir: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const { stdout } = await execFileAsync('go', ['mod', 'download', '-json', FERRETDB_MODULE], {
    cwd: goModuleDir,
    env,
  });
  const moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
  const copy = path.join(workDir, 'ferretdb-src');
  await fs.promises.rm(workDir, { recursive: true, force: true });
  await fs.promises.cp(moduleDir, copy, { recursive: true });
  // The module cache is read-only; the copy must be writable to patch it and, later, to remove it.
  await makeWritable(copy);
  for (const [i, patch] of FERRETDB_PATCHES.entries()) {
    const file = path.join(copy, patch.file);
    const source = await fs.promises.readFile(file, 'utf8');
    const matches = source.split(patch.find).length - 1;
    const expected = patch.occurrences ?? 1;
    if (matches !== expected) {
      throw new Error(`FerretDB patch ${i} expects ${expected} match(es) in ${patch.file}, found ${matches}`);
    }
    await fs.promises.writeFile(file, source.replaceAll(patch.find, patch.replace));
  }
  const goMod = await fs.promises.readFile(path.join(goModuleDir, 'go.mod'), 'utf8');
  const modfile = path.join(workDir, 'go.mod');
  await fs.promises.writeFile(modfile, `${goMod}\nreplace ${FERRETDB_MODULE} => ${copy}\n`);
  await fs.promises.copyFile(path.join(goModuleDir, 'go.sum'), path.join(workDir, 'go.sum'));
  return modfile;
}

async function makeWritable(dir: string): Promise<void> {
  await fs.promises.chmod(dir, 0o755);
  for (const entry of await fs.promises.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await makeWritable(full);
    else await fs.promises.chmod(full, 0o644);
  }
}
