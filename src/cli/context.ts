import { Client, Connection } from '@temporalio/client';
import { configSchema } from '../config';
import { connectDatabase, type Database } from '../db/connection';
import { temporalTarget, type TemporalTarget } from '../temporal/connection-options';
import type { UpgradeUseCaseConfig } from '../upgrades/deps';
import { CliError } from './errors';

/**
 * The CLI's settings, from the same environment variables as the API and the worker (validated by the same schema).
 * Defaults fit `npm start` on this machine.
 */
export interface CliSettings {
  temporalAddress: string;
  namespace: string;
  /** TLS, API key and metadata from Temporal's environment configuration (src/temporal/connection-options.ts). */
  temporalConnection?: Omit<TemporalTarget['connectionOptions'], 'address'>;
  mongodbUri?: string;
  database: string;
  /** What the upgrade use cases (retry) read: the task queue, the eligibility policy, the seat reassignment timing. */
  useCases: UpgradeUseCaseConfig;
}

export function loadCliSettings(env: NodeJS.ProcessEnv = process.env): CliSettings {
  const shared = configSchema.safeParse(env);
  if (!shared.success) {
    const problems = shared.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new CliError(`invalid environment:\n  ${problems.join('\n  ')}`);
  }
  const { TEMPORAL_TASK_QUEUE, ELIGIBILITY_POLICY, SEAT_REMINDER_INTERVAL_HOURS, SEAT_ESCALATION_DAYS } = shared.data;
  const { connectionOptions, namespace } = temporalTarget({ ...shared.data, TEMPORAL_ADDRESS: shared.data.TEMPORAL_ADDRESS ?? 'localhost:7233' }, env);
  const { address, ...temporalConnection } = connectionOptions;
  return {
    temporalAddress: address,
    namespace,
    temporalConnection,
    ...(shared.data.MONGODB_URI ? { mongodbUri: shared.data.MONGODB_URI } : {}),
    database: shared.data.MONGODB_DATABASE,
    useCases: { TEMPORAL_TASK_QUEUE, ELIGIBILITY_POLICY, SEAT_REMINDER_INTERVAL_HOURS, SEAT_ESCALATION_DAYS },
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
