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
  {
    // Every other filter reached SQLite as a scan of the whole collection: listing one account's
    // jobs read every tenant's. A filter `_id: {$in: [<strings>]}` becomes an IN list on the _id
    // expression (a batch of primary-key lookups in one query). Otherwise, when a filter holds `field: "<string>"` for a top-level field that
    // leads one of the collection's indexes, narrow the read to those rows with the index's own
    // expression (so SQLite uses the index); the handler filters the rows again with the complete
    // filter. One caveat makes it a superset only for scalar fields: MongoDB's equality also matches
    // an array holding the value, which this narrowing would miss; Easel indexes no array field.
    file: 'internal/backends/sqlite/collection.go',
    find: `	q += whereClause
	q += prepareOrderByClause(params.Sort)
`,
    replace: `	if whereClause == "" { // easel: push down \`_id: {$in: [...]}\`, or equality on an indexed top-level field
		if ids, ok := easelIDIn(params.Filter); ok {
			whereClause = fmt.Sprintf(\` WHERE %s IN (%s)\`, metadata.IDColumn, strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", "))
			args = ids
		} else if field, value, ok := easelIndexedEquality(params.Filter, meta); ok {
			whereClause = fmt.Sprintf(\` WHERE %s->%q = ?\`, metadata.DefaultColumn, field)
			args = []any{string(must.NotFail(sjson.MarshalSingleValue(value)))}
		}
	}

	q += whereClause
	q += prepareOrderByClause(params.Sort)
`,
  },
  {
    // The same narrowing in Explain, so explain() shows the plan the query runs.
    file: 'internal/backends/sqlite/collection.go',
    find: `	orderByClause := prepareOrderByClause(params.Sort)
`,
    replace: `	if whereClause == "" { // easel: push down \`_id: {$in: [...]}\`, or equality on an indexed top-level field
		if ids, ok := easelIDIn(params.Filter); ok {
			filterPushdown = true
			whereClause = fmt.Sprintf(\` WHERE %s IN (%s)\`, metadata.IDColumn, strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", "))
			args = ids
		} else if field, value, ok := easelIndexedEquality(params.Filter, meta); ok {
			filterPushdown = true
			whereClause = fmt.Sprintf(\` WHERE %s->%q = ?\`, metadata.DefaultColumn, field)
			args = []any{string(must.NotFail(sjson.MarshalSingleValue(value)))}
		}
	}

	orderByClause := prepareOrderByClause(params.Sort)
`,
  },
  {
    file: 'internal/backends/sqlite/collection.go',
    find: `// InsertAll implements backends.Collection interface.
`,
    replace: `// easelIndexedEquality finds the filter's first \`field: "<string>"\` whose field is top-level and
// leads one of the collection's indexes (easel).
func easelIndexedEquality(filter *types.Document, meta *metadata.Collection) (string, any, bool) {
	if filter == nil {
		return "", nil, false
	}
	for _, field := range filter.Keys() {
		if field == "" || strings.HasPrefix(field, "$") || strings.Contains(field, ".") {
			continue
		}
		value, _ := filter.Get(field)
		if _, isString := value.(string); !isString {
			continue
		}
		for _, index := range meta.Settings.Indexes {
			if len(index.Key) > 0 && index.Key[0].Field == field {
				return field, value, true
			}
		}
	}
	return "", nil, false
}

// easelIDIn reads a filter's \`_id: {$in: [<strings>]}\` (at most 500 of them) as the SQL arguments of
// an IN list on the _id expression (easel): a batch of lookups by primary key in one query.
func easelIDIn(filter *types.Document) ([]any, bool) {
	if filter == nil || !filter.Has("_id") {
		return nil, false
	}
	v, _ := filter.Get("_id")
	cond, isDoc := v.(*types.Document)
	if !isDoc || cond.Len() != 1 || !cond.Has("$in") {
		return nil, false
	}
	list, isArray := must.NotFail(cond.Get("$in")).(*types.Array)
	if !isArray || list.Len() == 0 || list.Len() > 500 {
		return nil, false
	}
	args := make([]any, 0, list.Len())
	for i := 0; i < list.Len(); i++ {
		id := must.NotFail(list.Get(i))
		if _, isString := id.(string); !isString {
			return nil, false
		}
		args = append(args, string(must.NotFail(sjson.MarshalSingleValue(id))))
	}
	return args, true
}

// InsertAll implements backends.Collection interface.
`,
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
