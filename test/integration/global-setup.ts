import { startServices, type RunningServices } from '../../src/local-services/service-runner';

declare global {
  var __NCE_SERVICES__: RunningServices | undefined;
}

/**
 * One Temporal dev server and one FerretDB for the whole integration run (each test file uses its own database and
 * task queue). Set TEMPORAL_ADDRESS / MONGODB_URI to run the suite against external servers instead.
 */
export default async function globalSetup(): Promise<void> {
  const services = await startServices({
    temporalAddress: process.env.TEMPORAL_ADDRESS,
    mongodbUri: process.env.MONGODB_URI,
    headless: !process.env.NCE_TEST_TEMPORAL_UI,
    log: (message) => process.stdout.write(`\n[services] ${message}`),
  });
  globalThis.__NCE_SERVICES__ = services;
  // Test files run in worker processes forked after this point and inherit these.
  process.env.TEMPORAL_ADDRESS = services.temporalAddress;
  process.env.MONGODB_URI = services.mongodbUri;
  if (services.temporalUiUrl) process.env.NCE_TEST_TEMPORAL_UI_URL = services.temporalUiUrl;
}
