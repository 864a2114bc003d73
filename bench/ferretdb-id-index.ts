import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * The what-if behind BENCH_FERRETDB_ID_INDEX=1.
 *
 * FerretDB v1.24.2's SQLite backend stores each document as JSON in `_ferretdb_sjson` and creates
 * the `_id` index on `_ferretdb_sjson->"_id"`, but pushes an `{_id: <string>}` filter down as
 * `WHERE _ferretdb_sjson->'$._id' = ?`. SQLite only uses an expression index for the very same
 * expression, so every lookup, update and replace by `_id` scans the whole table
 * (`EXPLAIN QUERY PLAN` says `SCAN`). This adds an index on the expression the queries use, to
 * every collection table, every `EVERY_MS` (collections appear as Easel creates them).
 *
 * It edits the dev stack's SQLite files with the `sqlite3` command-line tool while FerretDB runs
 * (WAL mode allows it): a measurement aid, never part of a shipped stack.
 */
const EVERY_MS = 5_000;
const BUSY_TIMEOUT_MS = 5_000;

export const ID_INDEX_WHAT_IF =
  'FerretDB _id lookups indexed by the benchmark (BENCH_FERRETDB_ID_INDEX=1): not the shipped dev stack';

async function sqlite(file: string, sql: string): Promise<string> {
  const { stdout } = await execFileAsync('sqlite3', ['-cmd', `.timeout ${BUSY_TIMEOUT_MS}`, file, sql]);
  return stdout;
}

/** Indexes the tables of one database file not indexed yet: one `sqlite3` run per pass, two when needed. */
async function indexTables(file: string, indexed: Set<string>): Promise<void> {
  const tables = (await sqlite(file, 'SELECT table_name FROM _ferretdb_collections'))
    .split('\n')
    .filter((t) => t && !indexed.has(`${file}:${t}`));
  if (tables.length === 0) return;
  await sqlite(
    file,
    tables
      .map((t) => `CREATE INDEX IF NOT EXISTS "${t}_id_path" ON "${t}" (_ferretdb_sjson->'$._id');`)
      .join('\n'),
  );
  for (const t of tables) indexed.add(`${file}:${t}`);
}

export interface IdIndexer {
  stop(): Promise<void>;
}

/** Keeps every FerretDB database file under `ferretdbDir` indexed until stopped. */
export async function startIdIndexer(ferretdbDir: string, log: (m: string) => void): Promise<IdIndexer> {
  await execFileAsync('sqlite3', ['-version']).catch(() => {
    throw new Error('BENCH_FERRETDB_ID_INDEX needs the sqlite3 command-line tool (apt-get install sqlite3)');
  });
  let running = true;
  let wake = (): void => undefined;
  const indexed = new Set<string>();
  const pass = async (): Promise<void> => {
    const files = fs.existsSync(ferretdbDir)
      ? fs.readdirSync(ferretdbDir).filter((f) => f.endsWith('.sqlite'))
      : [];
    for (const file of files) await indexTables(path.join(ferretdbDir, file), indexed);
  };
  const loop = (async () => {
    while (running) {
      await pass().catch((err: unknown) =>
        log(`id index: ${err instanceof Error ? err.message : String(err)}`),
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, EVERY_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();
  log('what-if: indexing the expression FerretDB uses for _id lookups (BENCH_FERRETDB_ID_INDEX=1)');
  return {
    stop: async () => {
      running = false;
      wake();
      await loop;
    },
  };
}
