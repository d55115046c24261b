import { createHash } from "node:crypto";

/**
 * The rendered policy text the operator writes and the sidecar reads (the ConfigMap's policy.yaml),
 * as a contract between the two. The operator stamps it with the CachePolicy's generation on a comment
 * line, so that a sidecar reading it from two sources (the API watch and the mounted volume, which lags
 * by up to a minute) never goes back to an older revision. The hash leaves that line out: it names the
 * effective configuration, which an edit that changes nothing else does not change.
 */
export const REVISION_PREFIX = "# apicache.io/revision: ";

/** The comment line that carries a revision. */
export function revisionLine(revision: number): string {
  return `${REVISION_PREFIX}${revision}\n`;
}

const REVISION_LINE = /^# apicache\.io\/revision: (\d+)\n/m;

/** The revision stamped on a policy text, or undefined (a hand-written file has none). */
export function policyRevision(text: string): number | undefined {
  const match = REVISION_LINE.exec(text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** `sha256:<hex>` of the text without its revision line. */
export function policyHash(text: string): string {
  return `sha256:${createHash("sha256").update(text.replace(REVISION_LINE, "")).digest("hex")}`;
}
