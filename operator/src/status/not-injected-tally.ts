/**
 * Selected pods running without the sidecar, per CachePolicy, and their sum: what the gauge
 * apicache_operator_pods_not_injected reports. Only the leader reconciles, so only its tally counts;
 * `clear()` when its term ends, so a follower never reports an old figure.
 */
export class NotInjectedTally {
  private readonly byPolicy = new Map<string, number>();
  private sum = 0;

  /** Records a policy's count (0 forgets it); returns the new sum. */
  set(key: string, pods: number): number {
    this.sum += pods - (this.byPolicy.get(key) ?? 0);
    if (pods > 0) this.byPolicy.set(key, pods);
    else this.byPolicy.delete(key);
    return this.sum;
  }

  clear(): void {
    this.byPolicy.clear();
    this.sum = 0;
  }

  get total(): number {
    return this.sum;
  }
}
