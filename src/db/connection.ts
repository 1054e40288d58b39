import mongoose, { type Connection } from 'mongoose';
import { createModels, type Models } from './models';

export interface Database {
  readonly connection: Connection;
  readonly models: Models;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * One connection per process (API, worker, test file), its models bound to it so tests can use separate databases.
 * Indexes are built at connect: they carry our uniqueness guarantees (one invoice per upgrade and kind, one
 * notification per event), so they must exist before the first write.
 */
export async function connectDatabase(uri: string, dbName: string): Promise<Database> {
  const connection = mongoose.createConnection(uri, {
    dbName,
    serverSelectionTimeoutMS: 10_000,
    // FerretDB 1.x and MongoDB both accept this; retryable writes need a replica set, which a dev server lacks.
    retryWrites: false,
    autoIndex: false,
  });
  await connection.asPromise();
  const models = createModels(connection);
  await Promise.all(Object.values(models).map((model) => model.createIndexes()));
  return {
    connection,
    models,
    async ping() {
      try {
        await connection.db?.admin().ping();
        return true;
      } catch {
        return false;
      }
    },
    close: () => connection.close(),
  };
}
