import { join } from 'node:path';
import { startFerretDb, type FerretDbServer } from './ferretdb';
import { startTemporalDevServer, type TemporalDevServer } from './temporal-dev-server';
import { dataRootDir } from './tools';

/**
 * Brings up the services the system needs, used by `npm start`, the jest global setup and the benchmarks:
 * an address that is already configured (TEMPORAL_ADDRESS, MONGODB_URI) is used as-is; anything unset is started
 * locally from the binaries `npm run setup` installed, on free ports, and stopped by `stop()`.
 */
export interface RunningServices {
  temporalAddress: string;
  /** Only when we started the dev server ourselves. */
  temporalUiUrl?: string;
  mongodbUri: string;
  stop(): Promise<void>;
}

export interface ServiceRunnerOptions {
  temporalAddress?: string;
  mongodbUri?: string;
  temporalNamespace?: string;
  temporalPort?: number;
  temporalUiPort?: number;
  mongoPort?: number;
  /** Keep Temporal and FerretDB state across runs under .data/ (npm start); tests use throwaway state. */
  persistent?: boolean;
  headless?: boolean;
  log?: (message: string) => void;
}

export async function startServices(options: ServiceRunnerOptions): Promise<RunningServices> {
  const log = options.log ?? (() => undefined);
  const started: Array<TemporalDevServer | FerretDbServer> = [];
  const stop = async () => {
    await Promise.allSettled(started.map((service) => service.stop()));
  };
  try {
    const [temporal, ferret] = await Promise.all([
      options.temporalAddress
        ? undefined
        : startTemporalDevServer({
            port: options.temporalPort,
            uiPort: options.temporalUiPort,
            namespace: options.temporalNamespace,
            headless: options.headless,
            dbFile: options.persistent ? join(dataRootDir, 'temporal.sqlite') : undefined,
          }).then((server) => {
            started.push(server);
            log(`Temporal dev server on ${server.address}${options.headless ? '' : `, UI ${server.uiUrl}`}`);
            return server;
          }),
      options.mongodbUri
        ? undefined
        : startFerretDb({
            port: options.mongoPort,
            dataDir: options.persistent ? join(dataRootDir, 'ferretdb') : undefined,
          }).then((server) => {
            started.push(server);
            log(`FerretDB (MongoDB wire protocol) on ${server.uri}`);
            return server;
          }),
    ]);
    return {
      temporalAddress: options.temporalAddress ?? temporal!.address,
      temporalUiUrl: temporal && !options.headless ? temporal.uiUrl : undefined,
      mongodbUri: options.mongodbUri ?? ferret!.uri,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
