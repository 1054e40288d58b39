import { CliError } from '../errors';

/**
 * `upgrades retry <upgradeId>`: asks the API to re-run a failed upgrade (`POST /v1/upgrades/:id/retry`), so the CLI
 * and the portal share one code path: the API re-takes the locks, claims the record (`failed` → `accepted`) and
 * starts a new run under the same workflow id. The activities are keyed by the upgrade id: no second vendor
 * transition, no second invoice. The API refuses (409) an upgrade that did not fail.
 */
export interface RetryResult {
  upgradeId: string;
  status: string;
}

export async function retryUpgrade(options: { apiUrl: string; operatorKey?: string; upgradeId: string; timeoutMs?: number }): Promise<RetryResult> {
  if (!options.operatorKey) throw new CliError('OPERATOR_API_KEY is not set: retry is an operator action (npm start prints the key)');
  const url = `${options.apiUrl}/v1/upgrades/${encodeURIComponent(options.upgradeId)}/retry`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${options.operatorKey}` },
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
  } catch (error) {
    throw new CliError(
      `cannot reach the API at ${options.apiUrl} (${error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error)}); set API_URL`,
    );
  }
  const text = await response.text();
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (response.status === 202) return { upgradeId: body?.upgradeId ?? options.upgradeId, status: body?.status ?? 'accepted' };
  const code = body?.error?.code ?? `HTTP_${response.status}`;
  const message = body?.error?.message ?? (text.slice(0, 200) || response.statusText);
  const hint =
    response.status === 401 || response.status === 403
      ? ' (is OPERATOR_API_KEY the operator key of this API?)'
      : response.status === 404
        ? " (no such upgrade in this API's database)"
        : '';
  throw new CliError(`retry refused: ${code}: ${message}${hint}`);
}
