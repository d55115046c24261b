import { once } from "node:events";
import type { AddressInfo, Server } from "node:net";
import { OPERATOR_ERROR_CODES, OperatorError } from "../errors.js";

/** Starts `server` on host:port and resolves with the bound port, or rejects with APICACHE_ERR_OPERATOR_LISTEN. */
export async function listenOn(server: Server, what: string, host: string, port: number): Promise<number> {
  server.listen(port, host);
  try {
    await Promise.race([
      once(server, "listening"),
      once(server, "error").then(([error]) => Promise.reject(error)),
    ]);
  } catch (error) {
    throw new OperatorError(
      OPERATOR_ERROR_CODES.LISTEN,
      `${what} cannot listen on ${host}:${port}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return (server.address() as AddressInfo).port;
}
