/**
 * In-process mutual exclusion per key (here: per subscription id).
 *
 * Why: the subscription lock is one conditional `updateOne` ({ lockedByUpgradeId: null } → set), which MongoDB applies
 * atomically — but FerretDB 1.x (our dev/test database) does not: under concurrency several conditional updates of
 * the same document all match. Serialising the lock attempts of this process makes "one running upgrade per
 * subscription" hold for a single API replica on FerretDB; across replicas it rests on the database's atomicity.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async runExclusive<T>(keys: readonly string[], fn: () => Promise<T>): Promise<T> {
    const ordered = [...new Set(keys)].sort();
    const releases: Array<() => void> = [];
    try {
      // Sorted acquisition: two callers wanting overlapping sets can't deadlock.
      for (const key of ordered) releases.push(await this.acquire(key));
      return await fn();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  private async acquire(key: string): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => current);
    this.tails.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}
