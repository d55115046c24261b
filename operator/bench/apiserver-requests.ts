import type { BenchApi } from "./bench-api.js";
import { diffSamples, parseSamples, type Sample } from "./prom-text.js";

/**
 * Requests the API server served, from its own `apiserver_request_total` (labels verb, resource,
 * subresource, code; server-side apply is verb APPLY). No user or user-agent label exists, so the
 * operator's writes are told apart by what it writes: nothing else in this harness writes
 * ConfigMaps, Roles, RoleBindings, Secrets, Events or CachePolicy status (the benchmark creates
 * namespaces, CachePolicies and Pods; the API server renews its own Lease in kube-system).
 */
export const REQUESTS = "apiserver_request_total";

const WRITE_VERBS = new Set(["POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION"]);

/** What the operator's reconciles write (resource or resource/subresource). */
export const OPERATOR_WRITES = new Set([
  "configmaps",
  "roles",
  "rolebindings",
  "secrets",
  "events",
  "cachepolicies/status",
  "mutatingwebhookconfigurations",
]);

export const resourceOf = (labels: Readonly<Record<string, string>>) =>
  labels.subresource ? `${labels.resource}/${labels.subresource}` : (labels.resource ?? "");

export const isWrite = (labels: Readonly<Record<string, string>>) => WRITE_VERBS.has(labels.verb ?? "");

export const isOperatorWrite = (labels: Readonly<Record<string, string>>) =>
  isWrite(labels) && OPERATOR_WRITES.has(resourceOf(labels));

export async function scrapeRequests(api: BenchApi): Promise<Sample[]> {
  return parseSamples(await api.getText("/metrics"), (name) => name === REQUESTS);
}

export interface RequestRow {
  readonly verb: string;
  readonly resource: string;
  readonly code: string;
  readonly count: number;
}

/** Requests between two scrapes, by verb, resource and code, largest first. */
export function requestsBetween(
  before: readonly Sample[],
  after: readonly Sample[],
  where: (labels: Readonly<Record<string, string>>) => boolean,
): RequestRow[] {
  const rows = new Map<string, RequestRow>();
  for (const s of diffSamples(before, after)) {
    if (s.name !== REQUESTS || !where(s.labels)) continue;
    const row = { verb: s.labels.verb ?? "", resource: resourceOf(s.labels), code: s.labels.code ?? "" };
    const key = `${row.verb} ${row.resource} ${row.code}`;
    rows.set(key, { ...row, count: (rows.get(key)?.count ?? 0) + s.value });
  }
  return [...rows.values()].sort((a, b) => b.count - a.count);
}

export const total = (rows: readonly RequestRow[]) => rows.reduce((sum, row) => sum + row.count, 0);

export function formatRows(rows: readonly RequestRow[]): string {
  if (rows.length === 0) return "(none)";
  return rows.map((r) => `${r.verb} ${r.resource} ${r.code}: ${r.count}`).join(", ");
}
