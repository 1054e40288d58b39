import { randomBytes } from 'node:crypto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { type Config, loadConfig } from '../../src/config';
import { type RunningServices, startServices } from '../../src/local-services/service-runner';

/**
 * What the history recorders (record-histories.ts, record-campaign-histories.ts) start from: the services (the
 * configured ones, else a throwaway dev server and FerretDB) and a configuration on a task queue and database of their
 * own, with fast vendor polling; `env` adds or overrides variables.
 */
export async function startRecordingServices(
  queuePrefix: string,
  operatorKey: string,
  say: (message: string) => void,
  env: Record<string, string> = {},
): Promise<{ services: RunningServices; config: Config }> {
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  const services = await startServices({ temporalAddress: process.env.TEMPORAL_ADDRESS, mongodbUri: process.env.MONGODB_URI, headless: true, log: say });
  const config = loadConfig({
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    TEMPORAL_ADDRESS: services.temporalAddress,
    TEMPORAL_TASK_QUEUE: `${queuePrefix}-${randomBytes(4).toString('hex')}`,
    MONGODB_URI: services.mongodbUri,
    MONGODB_DATABASE: `record_${randomBytes(4).toString('hex')}`,
    OPERATOR_API_KEY: operatorKey,
    WEBHOOK_SIGNING_SECRET: 'record-signing-secret-0123',
    VENDOR_TOKEN: 'record',
    VENDOR_POLL_INITIAL_MS: '100',
    VENDOR_POLL_MAX_MS: '500',
    CATALOG_CACHE_SECONDS: '0',
    ...env,
  });
  return { services, config };
}
