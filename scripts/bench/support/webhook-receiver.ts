import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../../../activities/notifications';

/**
 * The portal's end of our webhooks, for the benchmark and the fault suite: verifies each delivery's signature,
 * answers 204, and lets a driver wait for an event of one upgrade — the way a portal learns that a manual seat
 * reassignment is needed without polling the API. A delivery that arrives before anyone waits is kept, and a
 * redelivery (same `X-NCE-Delivery`) is counted once.
 */
export interface WebhookReceiver {
  /** Where the accounts' `webhookUrl` points. */
  readonly url: string;
  /** Resolves true when `event` for `upgradeId` arrived (or had already), false after `timeoutMs`. */
  waitFor(upgradeId: string, event: string, timeoutMs: number): Promise<boolean>;
  /** Deliveries accepted, redeliveries of one already accepted, and refused (bad signature or body). */
  counts(): { delivered: number; redelivered: number; refused: number };
  close(): Promise<void>;
}

export async function startWebhookReceiver(signingSecret: string): Promise<WebhookReceiver> {
  const received = new Set<string>(); // `${upgradeId} ${event}`
  const deliveries = new Set<string>();
  const waiters = new Map<string, Array<() => void>>();
  const counts = { delivered: 0, redelivered: 0, refused: 0 };

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const signature = request.headers['x-nce-signature'];
      let payload: { upgradeId?: unknown; event?: unknown } | undefined;
      try {
        payload = JSON.parse(body) as typeof payload;
      } catch {
        payload = undefined;
      }
      const signed = verifyWebhookSignature(signingSecret, body, typeof signature === 'string' ? signature : undefined, Math.floor(Date.now() / 1000));
      if (!signed || typeof payload?.upgradeId !== 'string' || typeof payload.event !== 'string') {
        counts.refused += 1;
        response.writeHead(400).end();
        return;
      }
      const delivery = String(request.headers['x-nce-delivery'] ?? `${payload.upgradeId}:${payload.event}`);
      if (deliveries.has(delivery)) counts.redelivered += 1;
      else counts.delivered += 1;
      deliveries.add(delivery);
      const key = `${payload.upgradeId} ${payload.event}`;
      received.add(key);
      for (const wake of waiters.get(key) ?? []) wake();
      waiters.delete(key);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`;

  return {
    url,
    waitFor(upgradeId, event, timeoutMs) {
      const key = `${upgradeId} ${event}`;
      if (received.has(key)) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          const list = waiters.get(key)?.filter((entry) => entry !== wake) ?? [];
          if (list.length) waiters.set(key, list);
          else waiters.delete(key);
          resolve(false);
        }, timeoutMs);
        const wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
        waiters.set(key, [...(waiters.get(key) ?? []), wake]);
      });
    },
    counts: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
