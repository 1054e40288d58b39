/**
 * The production tests drive one upgrade of the demo data (`seedDemoData`) through the HTTP API, as a portal would:
 * start it, confirm a manual seat reassignment when asked, and wait until it is completed.
 */
export type ApiCall = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; body: any }>;

export function apiClient(baseUrl: () => string, operatorKey: string): ApiCall {
  return async (method, path, body, headers = {}) => {
    const response = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: { authorization: `Bearer ${operatorKey}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
}

/** A partial upgrade of 4 of the 10 Business Basic seats of the demo account into Business Standard, new subscription. */
export async function upgradeDemoSubscription(api: ApiCall, idempotencyKey: string, timeoutMs = 90_000): Promise<{ upgradeId: string; completed: any }> {
  const started = await api(
    'POST',
    '/v1/upgrades',
    { sourceSubscriptionId: 'sub_contoso_basic', targetProductId: 'CFQ7TTC0LDPB:0001:DEMO', quantity: 4, destination: { type: 'new' } },
    { 'idempotency-key': idempotencyKey },
  );
  if (started.status !== 202) throw new Error(`start answered ${started.status}: ${JSON.stringify(started.body)}`);
  const upgradeId: string = started.body.upgradeId;
  for (const deadline = Date.now() + timeoutMs; ;) {
    const { body } = await api('GET', `/v1/upgrades/${upgradeId}`);
    if (body.status === 'awaiting_manual_seat_reassignment')
      await api('POST', `/v1/upgrades/${upgradeId}/seat-reassignment`, { note: 'reassigned by the test' });
    if (body.status === 'completed') return { upgradeId, completed: body };
    if (Date.now() > deadline) throw new Error(`upgrade ${upgradeId} still ${body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
