import type { IncomingMessage, Server, ServerResponse } from "node:http";

/**
 * For each request `server` emits while `work` runs: whether the request and its response already had
 * their express app's prototypes (ADR 0036). express's app.request and app.response hold `app` as
 * their own property; node's prototypes do not.
 */
export async function appPrototypesDuring(server: Server, work: () => Promise<void>): Promise<boolean[]> {
  const seen: boolean[] = [];
  const record = (req: IncomingMessage, res: ServerResponse) =>
    seen.push(
      Object.hasOwn(Object.getPrototypeOf(req), "app") && Object.hasOwn(Object.getPrototypeOf(res), "app"),
    );
  server.prependListener("request", record);
  try {
    await work();
  } finally {
    server.off("request", record);
  }
  return seen;
}
