import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../../src/config';

/**
 * The configuration of one test file's system on the globalSetup's services: its own task queue and database
 * (`<prefix>-<name>-<random>`), quiet logs, an API on an ephemeral local port, no catalog cache.
 */
export function integrationConfig(prefix: string, name: string, env: Record<string, string> = {}): Config {
  const suffix = randomBytes(4).toString('hex');
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
    TEMPORAL_TASK_QUEUE: `${prefix}-${name}-${suffix}`,
    MONGODB_URI: process.env.MONGODB_URI,
    MONGODB_DATABASE: `${prefix}_${name}_${suffix}`,
    CATALOG_CACHE_SECONDS: '0',
    // Test receivers listen on 127.0.0.1.
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    // Partner Center's limit on transition POSTs (100 per 5 minutes by default) only where a test sets it.
    VENDOR_TRANSITIONS_PER_INTERVAL: '1000000',
    VENDOR_TRANSITIONS_INTERVAL_SECONDS: '1',
    ...env,
  });
  return { ...config, PORT: 0 };
}
