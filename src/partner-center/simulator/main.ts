/**
 * Standalone simulator: `npm run simulator`. Listens on SIMULATOR_PORT (default 4010) and
 * SIMULATOR_HOST (default 127.0.0.1; use 0.0.0.0 in a container). Seed it and set faults through
 * the admin API (see admin-routes.ts). State lives in memory and is gone when the process stops.
 */
import { createPartnerCenterSimulator } from './create-simulator';

async function main(): Promise<void> {
  const port = Number(process.env.SIMULATOR_PORT ?? 4010);
  const host = process.env.SIMULATOR_HOST ?? '127.0.0.1';
  const randomSeed = process.env.SIMULATOR_RANDOM_SEED === undefined ? undefined : Number(process.env.SIMULATOR_RANDOM_SEED);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`SIMULATOR_PORT must be a port number, got ${process.env.SIMULATOR_PORT}`);
  const running = await createPartnerCenterSimulator({ randomSeed }).listen(port, host);
  console.log(`Partner Center simulator listening on ${running.url} (admin API under ${running.url}/admin)`);
  const shutdown = () => {
    void running.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
