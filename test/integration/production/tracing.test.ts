import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import pino from 'pino';
import { createApp } from '../../../src/api/app';
import { connectDatabase, type Database } from '../../../src/db/connection';
import { registerDatabaseWithSimulator, seedDemoData } from '../../../src/demo-seed';
import { POLICY_PROFILES } from '../../../src/domain/eligibility-policies';
import { observedFetch } from '../../../src/observability/observed-fetch';
import { startTracing, type Tracing } from '../../../src/observability/tracing';
import { createPartnerCenterClient } from '../../../src/partner-center/partner-center-client';
import { createPartnerCenterSimulator, type RunningSimulator } from '../../../src/partner-center/simulator';
import { staticTokenProvider } from '../../../src/partner-center/token-providers';
import { createUpgradeWorker } from '../../../src/worker-factory';
import { apiClient, upgradeDemoSubscription } from './demo-upgrade';
import { createGraphClient, simulatorGraphTokenProvider } from '../../../src/microsoft-graph';

/**
 * One trace from the portal's HTTP request to Microsoft: the API's server span, the workflow start (client
 * interceptor), the workflow run and its activities (interceptors bundled with the workflow code), and the Partner
 * Center calls the activities make. The spans go to an in-memory exporter instead of OTLP.
 */
const OPERATOR_KEY = 'tracing-test-operator-key-0123456789';
const suffix = randomBytes(4).toString('hex');
const exporter = new InMemorySpanExporter();

let tracing: Tracing;
let simulator: RunningSimulator;
let database: Database;
let worker: Worker;
let workerRun: Promise<void>;
let server: Server;
let apiUrl: string;
let nativeConnection: NativeConnection;
let client: Client;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  tracing = startTracing({ serviceName: 'nce-tracing-test', exporter });
  simulator = await createPartnerCenterSimulator({ faults: { global: { completionDelayMs: 100, licenseReassignmentDelayMs: 50 } } }).listen(0, '127.0.0.1');
  database = await connectDatabase(process.env.MONGODB_URI!, `it_tracing_${suffix}`);
  await seedDemoData(database);
  await registerDatabaseWithSimulator(database, simulator.url);
  const taskQueue = `it-tracing-${suffix}`;
  const logger = pino({ level: 'silent' });
  nativeConnection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  // No bundle given: the worker bundles the workflow sources with the tracing interceptors, as a deployed build does.
  worker = await createUpgradeWorker({
    connection: nativeConnection,
    namespace: 'default',
    taskQueue,
    tracing,
    deps: {
      models: database.models,
      graph: createGraphClient({ baseUrl: `${simulator.url}/graph`, tokenProvider: simulatorGraphTokenProvider(), timeoutMs: 5_000 }),
      vendor: createPartnerCenterClient({
        baseUrl: simulator.url,
        tokenProvider: staticTokenProvider('test'),
        timeoutMs: 5_000,
        fetch: observedFetch('partner-center'),
      }),
      clock: () => new Date(),
      logger,
      policy: POLICY_PROFILES.microsoft,
      webhooks: { signingSecret: 'tracing-test-signing-secret', timeoutMs: 2_000, destinations: { allowPrivateNetworks: true, requireHttps: false } },
      vendorPolling: { initialIntervalMs: 100, maxIntervalMs: 500 },
    },
  });
  workerRun = worker.run();
  client = new Client({
    connection: await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! }),
    namespace: 'default',
    interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
  });
  const app = createApp({
    models: database.models,
    temporalClient: client,
    config: {
      OPERATOR_API_KEY: OPERATOR_KEY,
      WEBHOOK_SECRETS_KEY: 'tracing-test-webhook-secrets-key-0123456',
      TEMPORAL_TASK_QUEUE: taskQueue,
      ELIGIBILITY_POLICY: 'microsoft',
      SEAT_REMINDER_INTERVAL_HOURS: 24,
      SEAT_ESCALATION_DAYS: 7,
    },
    logger,
  });
  server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await nativeConnection?.close();
  await client?.connection.close();
  await new Promise((resolve) => server?.close(resolve));
  await database?.connection.dropDatabase().catch(() => undefined);
  await database?.close();
  await simulator?.close();
  await tracing?.shutdown();
});

const api = apiClient(() => apiUrl, OPERATOR_KEY);

/** The chain of parents from a span up to the root, as far as the exported spans go. */
function ancestry(span: ReadableSpan, byId: Map<string, ReadableSpan>): ReadableSpan[] {
  const chain = [span];
  for (
    let parent = span.parentSpanId ? byId.get(span.parentSpanId) : undefined;
    parent;
    parent = parent.parentSpanId ? byId.get(parent.parentSpanId) : undefined
  ) {
    chain.push(parent);
  }
  return chain;
}

test('one trace spans the HTTP request that starts an upgrade and the Partner Center call that converts it', async () => {
  const { upgradeId } = await upgradeDemoSubscription(api, `tracing-${suffix}`);
  await client.workflow.getHandle(upgradeId).result();

  const spans = exporter.getFinishedSpans();
  const request = spans.find((span) => span.name === 'HTTP POST /v1/upgrades');
  expect(request).toBeDefined();
  const conversion = spans.find((span) => span.name === 'partner-center POST /v1/customers/{id}/subscriptions/{id}/transitions');
  expect(conversion).toBeDefined();
  expect(conversion!.spanContext().traceId).toBe(request!.spanContext().traceId);

  // The conversion's ancestry leads, through the activity and the workflow, to the HTTP request.
  const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
  const chain = ancestry(conversion!, byId).map((span) => span.name);
  expect(chain[chain.length - 1]).toBe('HTTP POST /v1/upgrades');
  expect(chain).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^RunActivity:requestVendorTransition$/),
      expect.stringMatching(/^RunWorkflow:UpgradeWorkflow$/),
      expect.stringMatching(/^StartWorkflow:UpgradeWorkflow$/),
    ]),
  );
}, 120_000);
