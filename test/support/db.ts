import { randomBytes } from 'node:crypto';
import type mongoose from 'mongoose';
import { connectDatabase } from '../../platform/db';
import { requireDevStack } from './easel';

/** A connection to a fresh database on the shared FerretDB. */
export async function freshDatabase(
  name = `t_${randomBytes(4).toString('hex')}`,
): Promise<mongoose.Connection> {
  return connectDatabase(`${requireDevStack().mongoUri}${name}`);
}
