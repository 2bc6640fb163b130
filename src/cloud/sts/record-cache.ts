// The IAM records the STS hot path reads on every call (a role, an OIDC provider), kept until the IAM
// model changes. The composition root drops them with the authorizer's policy sets on every change.

/** Records kept at most; past it the cache starts over (keys come from stored entities and requests). */
const MAX_RECORDS = 10_000;

export class RecordCache {
  private readonly records = new Map<string, unknown>();
  /** Bumped by every invalidation, so a load that began before a change is not kept after it. */
  private generation = 0;

  /** Drop every kept record after any IAM or organization change. */
  invalidate(): void {
    this.records.clear();
    this.generation += 1;
  }

  /**
   * The record under `key`, loaded on a miss and kept. Misses are not kept: unknown ARNs cost a read
   * each, never memory. Callers must not mutate what they get.
   */
  async record<T>(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    if (this.records.has(key)) return this.records.get(key) as T;
    const generation = this.generation;
    const value = await load();
    if (value !== undefined && generation === this.generation) {
      if (this.records.size >= MAX_RECORDS) this.records.clear();
      this.records.set(key, value);
    }
    return value;
  }

  /** The kept record, without a promise (the hot path awaits only on a miss). */
  cached<T>(key: string): T | undefined {
    return this.records.get(key) as T | undefined;
  }
}
