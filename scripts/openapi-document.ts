import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Client } from '@temporalio/client';
import mongoose from 'mongoose';
import pino from 'pino';
import { createApp } from '../src/api/app';
import { createModels } from '../src/db/models';

/**
 * The OpenAPI document exactly as the API serves it at `/openapi.json`: the real app is built in process (its
 * database connection never opened, its Temporal connection lazy, so nothing is reached) and asked for the document
 * over HTTP on a loopback port.
 *
 * `tsx scripts/openapi-document.ts` prints it; `npm run lint:openapi` lints it (scripts/lint-openapi.ts).
 */
export async function generateOpenApiDocument(): Promise<Record<string, unknown>> {
  const connection = mongoose.createConnection();
  const app = createApp({
    models: createModels(connection),
    temporalClient: new Client(),
    config: {
      OPERATOR_API_KEY: 'openapi-document-operator-key-not-used',
      WEBHOOK_SECRETS_KEY: 'openapi-document-secrets-key-not-used-0123',
      TEMPORAL_TASK_QUEUE: 'openapi-document',
      ELIGIBILITY_POLICY: 'microsoft',
      SEAT_REMINDER_INTERVAL_HOURS: 24,
      SEAT_ESCALATION_DAYS: 7,
    },
    logger: pino({ level: 'silent' }),
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/openapi.json`);
    if (response.status !== 200) throw new Error(`GET /openapi.json answered ${response.status}`);
    return (await response.json()) as Record<string, unknown>;
  } finally {
    server.close();
    await connection.close();
  }
}

if (require.main === module) {
  generateOpenApiDocument()
    .then((document) => process.stdout.write(`${JSON.stringify(document, null, 2)}\n`))
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
