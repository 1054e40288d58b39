/**
 * Partner Center's answers reused for a short while by the API, keyed per source subscription: a portal asks
 * upgrade-options, the quote and the start for the same source in a row, and each page view must not cost a call
 * against Microsoft's request limits. A failure is not kept (the next caller asks again), and entries older than
 * `maxAgeMs` go when the map grows, so memory stays bounded by the sources asked about recently.
 */
export type ShortLivedAnswers<T> = (key: string, ask: () => Promise<T>) => Promise<T>;

const PRUNE_ABOVE_ENTRIES = 10_000;

export function shortLivedAnswers<T>(maxAgeMs: number, now: () => number = Date.now): ShortLivedAnswers<T> {
  const cached = new Map<string, { answer: Promise<T>; at: number }>();
  return (key, ask) => {
    const entry = cached.get(key);
    if (entry && now() - entry.at < maxAgeMs) return entry.answer;
    const answer = ask();
    const fresh = { answer, at: now() };
    if (maxAgeMs > 0) cached.set(key, fresh);
    answer.catch(() => {
      if (cached.get(key) === fresh) cached.delete(key);
    });
    if (cached.size > PRUNE_ABOVE_ENTRIES) for (const [oldKey, old] of cached) if (now() - old.at >= maxAgeMs) cached.delete(oldKey);
    return answer;
  };
}
