import { Client, Connection } from '@temporalio/client';
import { z } from 'zod';
import { configSchema } from '../config';
import { connectDatabase, type Database } from '../db/connection';
import { temporalTarget, type TemporalTarget } from '../temporal/connection-options';
import { CliError } from './errors';

/**
 * The CLI's settings, from the same environment variables as the API and the worker (validated by the same schema),
 * plus API_URL for the commands that go through the HTTP API. Defaults fit `npm start` on this machine.
 */
export interface CliSettings {
  temporalAddress: string;
  namespace: string;
  /** TLS, API key and metadata from Temporal's environment configuration (src/temporal/connection-options.ts). */
  temporalConnection?: Omit<TemporalTarget['connectionOptions'], 'address'>;
  mongodbUri?: string;
  database: string;
  apiUrl: string;
  operatorKey?: string;
}

const cliEnvSchema = z.object({ API_URL: z.string().url('must be a URL, e.g. http://localhost:3000').default('http://localhost:3000') });

export function loadCliSettings(env: NodeJS.ProcessEnv = process.env): CliSettings {
  const shared = configSchema.safeParse(env);
  const own = cliEnvSchema.safeParse(env);
  const problems = [...(shared.success ? [] : shared.error.issues), ...(own.success ? [] : own.error.issues)].map(
    (issue) => `${issue.path.join('.')}: ${issue.message}`,
  );
  if (!shared.success || !own.success) throw new CliError(`invalid environment:\n  ${problems.join('\n  ')}`);
  const { connectionOptions, namespace } = temporalTarget({ ...shared.data, TEMPORAL_ADDRESS: shared.data.TEMPORAL_ADDRESS ?? 'localhost:7233' }, env);
  const { address, ...temporalConnection } = connectionOptions;
  return {
    temporalAddress: address,
    namespace,
    temporalConnection,
    ...(shared.data.MONGODB_URI ? { mongodbUri: shared.data.MONGODB_URI } : {}),
    database: shared.data.MONGODB_DATABASE,
    apiUrl: own.data.API_URL.replace(/\/+$/, ''),
    ...(shared.data.OPERATOR_API_KEY ? { operatorKey: shared.data.OPERATOR_API_KEY } : {}),
  };
}

/** A Temporal client, or a sentence saying which address did not answer and how to point elsewhere. */
export async function connectTemporal(settings: Pick<CliSettings, 'temporalAddress' | 'namespace' | 'temporalConnection'>): Promise<Client> {
  try {
    const connection = await Connection.connect({ ...settings.temporalConnection, address: settings.temporalAddress, connectTimeout: 3_000 });
    return new Client({ connection, namespace: settings.namespace });
  } catch (error) {
    throw new CliError(
      `cannot reach Temporal at ${settings.temporalAddress} (${error instanceof Error ? error.message : String(error)}); set TEMPORAL_ADDRESS`,
    );
  }
}

export async function connectDb(settings: Pick<CliSettings, 'mongodbUri' | 'database'>): Promise<Database> {
  if (!settings.mongodbUri) {
    throw new CliError('MONGODB_URI is not set: point it at the database the API uses (npm start prints it as "FerretDB ... on mongodb://...")');
  }
  try {
    return await connectDatabase(settings.mongodbUri, settings.database);
  } catch (error) {
    throw new CliError(`cannot reach the database at ${settings.mongodbUri} (${error instanceof Error ? error.message : String(error)})`);
  }
}
