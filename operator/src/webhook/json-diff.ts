/**
 * The RFC 6902 JSON Patch that turns `before` into `after`, for the webhook's answer. Pure.
 *
 * `before` and `after` are plain JSON data (objects, arrays, strings, numbers, booleans, null; an
 * `undefined` property or slot counts as absent or null, as in JSON.stringify), as a parsed pod and
 * the injected copy built from it are. Operations carry `after`'s values by reference, never copies: the webhook serializes the patch at
 * once, and copying every added container and volume (fast-json-patch's `compare` round-trips each
 * through JSON) was about a tenth of a review's CPU (docs/adr/0017, section 4). Objects are compared
 * key by key. An array whose old items all follow new ones, the same references, gets those added in
 * front; any other array is compared index by index, growing by `add` at the end and shrinking by
 * `remove` from the end. Anything else that differs is replaced. Keys are escaped (`~` → `~0`, `/` → `~1`), so
 * annotation keys such as `apicache.io/status` address correctly.
 */
export type PatchOperation =
  | { readonly op: "add" | "replace"; readonly path: string; readonly value: unknown }
  | { readonly op: "remove"; readonly path: string };

export function jsonDiff(before: unknown, after: unknown): PatchOperation[] {
  const operations: PatchOperation[] = [];
  diffInto(before, after, "", operations);
  return operations;
}

type Container = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Container {
  return typeof value === "object" && value !== null;
}

function diffInto(before: unknown, after: unknown, path: string, out: PatchOperation[]): void {
  if (before === after) return;
  if (isContainer(before) && isContainer(after) && Array.isArray(before) === Array.isArray(after)) {
    if (Array.isArray(before)) diffArrays(before, after as unknown[], path, out);
    else diffObjects(before as Record<string, unknown>, after as Record<string, unknown>, path, out);
    return;
  }
  // JSON has no undefined: an array slot that became undefined serializes as null.
  out.push({ op: "replace", path, value: after === undefined ? null : after });
}

function diffObjects(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  path: string,
  out: PatchOperation[],
): void {
  for (const key of Object.keys(before)) {
    if (before[key] === undefined) continue; // not in the JSON document
    const child = `${path}/${pointerToken(key)}`;
    if (!Object.hasOwn(after, key) || after[key] === undefined) out.push({ op: "remove", path: child });
    else diffInto(before[key], after[key], child, out);
  }
  for (const key of Object.keys(after)) {
    if (after[key] === undefined || (Object.hasOwn(before, key) && before[key] !== undefined)) continue;
    out.push({ op: "add", path: `${path}/${pointerToken(key)}`, value: after[key] });
  }
}

function diffArrays(before: unknown[], after: unknown[], path: string, out: PatchOperation[]): void {
  const inserted = after.length - before.length;
  if (inserted > 0 && before.every((item, i) => after[inserted + i] === item)) {
    // Items put in front of the old ones (a native sidecar goes first in initContainers): add them,
    // and the old ones move along untouched, instead of each being rewritten into its neighbour.
    for (let i = 0; i < inserted; i++) out.push({ op: "add", path: `${path}/${i}`, value: after[i] ?? null });
    return;
  }
  const common = Math.min(before.length, after.length);
  for (let i = 0; i < common; i++) diffInto(before[i], after[i], `${path}/${i}`, out);
  for (let i = before.length - 1; i >= after.length; i--) out.push({ op: "remove", path: `${path}/${i}` });
  for (let i = before.length; i < after.length; i++) {
    out.push({ op: "add", path: `${path}/${i}`, value: after[i] === undefined ? null : after[i] });
  }
}

function pointerToken(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}
