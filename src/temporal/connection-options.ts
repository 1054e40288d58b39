import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { Config } from '../config';

/**
 * Where and how to reach Temporal, through Temporal's own environment configuration (`@temporalio/envconfig`): the
 * standard TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_TLS_CLIENT_CERT_PATH /
 * _KEY_PATH / TEMPORAL_TLS_SERVER_CA_CERT_PATH variables, or a profile of a TOML file (TEMPORAL_CONFIG_FILE,
 * TEMPORAL_PROFILE) — the same settings the Temporal CLI reads, so one profile serves both. Environment variables
 * win over the file. The API, the worker, the CLI and search-attribute registration all connect through this.
 * README "Production" shows Temporal Cloud (API key or mTLS) and a self-hosted mTLS cluster.
 */
export interface TemporalTarget {
  /** For `NativeConnection.connect` (worker) and `Connection.connect` (client): the shapes agree on these fields. */
  connectionOptions: NativeConnectionOptions & { address: string };
  namespace: string;
}

export function temporalTarget(
  config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE' | 'TEMPORAL_API_KEY' | 'TEMPORAL_PROFILE'>,
  env: NodeJS.ProcessEnv = process.env,
): TemporalTarget {
  const given = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
  // A key read from TEMPORAL_API_KEY_FILE by our config reaches envconfig like the plain variable.
  if (config.TEMPORAL_API_KEY) given.TEMPORAL_API_KEY = config.TEMPORAL_API_KEY;
  const loaded = loadClientConnectConfig({ ...(config.TEMPORAL_PROFILE ? { profile: config.TEMPORAL_PROFILE } : {}), overrideEnvVars: given });
  // Our config's address wins: it is TEMPORAL_ADDRESS itself, or the embedded dev server `npm start` started.
  const address = config.TEMPORAL_ADDRESS ?? loaded.connectionOptions.address;
  if (!address) throw new Error('Temporal address unknown: set TEMPORAL_ADDRESS, or TEMPORAL_CONFIG_FILE with a profile that has one');
  return {
    connectionOptions: { ...loaded.connectionOptions, address },
    namespace: given.TEMPORAL_NAMESPACE ?? loaded.namespace ?? config.TEMPORAL_NAMESPACE,
  };
}
