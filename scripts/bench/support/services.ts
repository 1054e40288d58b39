import { type DatabaseBackend, type RunningServices, startServices } from '../../../src/local-services/service-runner';

/**
 * The services a benchmark runs on: a Temporal dev server and `database` started here, unless TEMPORAL_ADDRESS or
 * MONGODB_URI point at running ones.
 */
export function startBenchServices(database: DatabaseBackend, log: (message: string) => void): Promise<RunningServices> {
  return startServices({
    headless: true,
    log,
    database,
    ...(process.env.MONGODB_URI ? { mongodbUri: process.env.MONGODB_URI } : {}),
    ...(process.env.TEMPORAL_ADDRESS ? { temporalAddress: process.env.TEMPORAL_ADDRESS } : {}),
  });
}
