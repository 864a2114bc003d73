import mongoose from 'mongoose';

/**
 * One mongoose connection per process. The URI's path names the database (default `easel`).
 * autoIndex is off: indexes are created once at start-up by `syncIndexes`, in a known order.
 */
export async function connectDatabase(uri: string, dbName = 'easel'): Promise<mongoose.Connection> {
  const hasDbInPath = /^mongodb(\+srv)?:\/\/[^/]+\/[^/?]+/.test(uri);
  const connection = mongoose.createConnection(uri, {
    autoIndex: false,
    autoCreate: false,
    serverSelectionTimeoutMS: 5_000,
    maxPoolSize: 50,
    ...(hasDbInPath ? {} : { dbName }),
  });
  await connection.asPromise();
  return connection;
}

export async function pingDatabase(connection: mongoose.Connection): Promise<void> {
  const db = connection.db;
  if (!db) throw new Error('not connected');
  await db.command({ ping: 1 }, { timeoutMS: 1_000 });
}

/** A write refused by a unique index (the primary key included): MongoDB and FerretDB say 11000. */
export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 11000;
}

/**
 * A model's collection as the driver sees it, typed with the model's own document shape. Writes
 * that bypass mongoose's casting (whole documents holding Mixed arrays, upserts by `_id`) use it;
 * this is the one place that tells the driver what a model's documents look like.
 */
export function typedCollection<T extends { _id: string }>(
  model: mongoose.Model<T>,
): mongoose.mongo.Collection<T> {
  return model.collection as unknown as mongoose.mongo.Collection<T>;
}
