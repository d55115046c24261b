import { send } from "./harness.js";

/** Sums a metric's samples (those with these labels) from a sidecar's admin `/metrics`. */
export async function metric(
  admin: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = (await send(admin, "/metrics")).body;
  let sum = 0;
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z0-9_:]+)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const present = Object.fromEntries(
      [...(match[3] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((pair) => [pair[1], pair[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) sum += Number(match[4]);
  }
  return sum;
}
