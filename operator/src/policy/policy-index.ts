import { parseStored, policyForPod, resolveOverlaps, type Verdict } from "./evaluate.js";
import type { Labels } from "./selector.js";
import type { StoredPolicy } from "./types.js";

/**
 * Verdicts for every policy of a namespace, computed from a policy cache and memoized: a policy is
 * parsed again only when its uid/generation changes, and a namespace's overlaps are resolved again
 * only when its set of policies does. Shared by the controller and the webhook. Pure (the cache is
 * a function passed in).
 */
export class PolicyIndex {
  private readonly parsed = new Map<string, { fingerprint: string; verdict: Verdict }>();
  private readonly namespaces = new Map<
    string,
    { stored: readonly StoredPolicy[]; fingerprint: string; verdicts: Map<string, Verdict> }
  >();

  constructor(private readonly listPolicies: (namespace: string) => readonly StoredPolicy[]) {}

  /** Every policy of the namespace by name, with its verdict. */
  verdicts(namespace: string): ReadonlyMap<string, Verdict> {
    const stored = this.listPolicies(namespace).filter((p) => p.metadata.deletionTimestamp === undefined);
    const memo = this.namespaces.get(namespace);
    // The same cached objects as last time (a cache replaces an object it updates): nothing to do.
    // The webhook asks once per admission, in namespaces of a hundred policies in the benchmark.
    if (memo && sameObjects(memo.stored, stored)) return memo.verdicts;
    const fingerprints = stored.map((p) => fingerprintOf(p));
    const fingerprint = fingerprints.join("|");
    if (memo?.fingerprint === fingerprint) {
      this.namespaces.set(namespace, { ...memo, stored });
      return memo.verdicts;
    }
    // Policies gone from the namespace since: their parses go too (on every replica, leader or not,
    // and for deletes no delete event reached: a relist, another leader's term).
    if (memo) {
      const present = new Set(stored.map(keyOf));
      for (const old of memo.stored) if (!present.has(keyOf(old))) this.parsed.delete(keyOf(old));
    }
    const parsed = stored.map((p, i) => this.parse(p, fingerprints[i] as string));
    const verdicts = resolveOverlaps(parsed);
    if (verdicts.size === 0) this.namespaces.delete(namespace);
    else this.namespaces.set(namespace, { stored, fingerprint, verdicts });
    return verdicts;
  }

  verdict(namespace: string, name: string): Verdict | undefined {
    return this.verdicts(namespace).get(name);
  }

  /** The policy that injects into a pod with these labels, if any. */
  policyForPod(namespace: string, labels: Labels | undefined) {
    return policyForPod(this.verdicts(namespace).values(), labels);
  }

  /** Drops memo entries of deleted policies (call on delete events). */
  forget(policy: StoredPolicy): void {
    this.parsed.delete(keyOf(policy));
  }

  private parse(policy: StoredPolicy, fingerprint: string): Verdict {
    const key = keyOf(policy);
    const memo = this.parsed.get(key);
    if (memo?.fingerprint === fingerprint) return memo.verdict;
    const verdict = parseStored(policy);
    this.parsed.set(key, { fingerprint, verdict });
    return verdict;
  }
}

function keyOf(policy: StoredPolicy): string {
  return policy.metadata.uid ?? `${policy.metadata.namespace}/${policy.metadata.name}`;
}

function sameObjects(a: readonly StoredPolicy[], b: readonly StoredPolicy[]): boolean {
  return a.length === b.length && a.every((object, i) => object === b[i]);
}

function fingerprintOf(policy: StoredPolicy): string {
  const { uid, name, generation, resourceVersion } = policy.metadata;
  return `${uid ?? name}:${generation ?? `rv${resourceVersion ?? ""}`}`;
}
