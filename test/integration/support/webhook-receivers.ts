import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO_PRODUCT_IDS } from '../../../src/domain/demo-catalog';
import type { SystemHarness } from './system-harness';

/** A webhook receiver on 127.0.0.1 that records what it gets and answers `answer` (changeable while it runs). */
export interface TestReceiver {
  server: Server;
  url: string;
  received: Array<{ headers: IncomingHttpHeaders; body: string }>;
  answer: number;
}

export async function startTestReceiver(answer: number): Promise<TestReceiver> {
  const state = { received: [], answer } as unknown as TestReceiver;
  state.server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      state.received.push({ headers: request.headers, body });
      response.writeHead(state.answer).end();
    });
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}/hooks`;
  return state;
}

/** A completed upgrade record of `accountId`, for delivering its notifications with the activities directly. */
export async function recordCompletedUpgrade(system: SystemHarness, accountId: string, prefix = 'upg_hook'): Promise<string> {
  const upgradeId = `${prefix}_${randomUUID().slice(0, 8)}`;
  await system.db.models.upgrades.create({
    _id: upgradeId,
    requestFingerprint: 'f',
    requestedByKeyId: 'k',
    accountId,
    request: { sourceSubscriptionId: 'sub-x', targetProductId: DEMO_PRODUCT_IDS.businessStandard },
    kind: 'partial',
    destinationType: 'new',
    status: 'completed',
  });
  return upgradeId;
}
