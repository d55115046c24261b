import { connect } from "node:net";

/**
 * One TCP connect to the upstream, for readiness. "refused": nothing listens on the port (the app
 * has exited, or has not started): the pod must leave the Service's endpoints, whatever the store
 * could still serve. "unreachable": no answer within the timeout (a busy or overloaded app).
 */
export type UpstreamProbe = "reachable" | "refused" | "unreachable";

export function probeUpstream(origin: string, timeoutMs = 500): Promise<UpstreamProbe> {
  const url = new URL(origin);
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 80) });
    socket.setTimeout(timeoutMs);
    const done = (result: UpstreamProbe) => {
      socket.destroy();
      resolve(result);
    };
    socket.once("connect", () => done("reachable"));
    socket.once("error", (error: NodeJS.ErrnoException) =>
      done(error.code === "ECONNREFUSED" ? "refused" : "unreachable"),
    );
    socket.once("timeout", () => done("unreachable"));
  });
}
