import { once } from "node:events";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nextIoTurn } from "../src/store/io-turn.js";

/**
 * What the tiered store relies on before it serves an L1 copy (ADR 0018): once `nextIoTurn()`
 * resolves, whatever was in any socket when it was called has been read and handled — including bytes
 * that arrived while the event loop was handling the request, after it had polled (the push's socket
 * is then not among the sockets that poll reported). Real sockets on loopback.
 */
describe("the next I/O turn", () => {
  let server: Server;
  const accepted: Socket[] = [];
  let request: Socket;
  let push: Socket;

  beforeAll(async () => {
    server = createServer((socket) => accepted.push(socket));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as { port: number };
    request = tcpConnect(port, "127.0.0.1");
    await once(request, "connect");
    push = tcpConnect(port, "127.0.0.1");
    await once(push, "connect");
    while (accepted.length < 2) await once(server, "connection");
  });

  afterAll(async () => {
    for (const socket of [request, push, ...accepted]) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it("has handled bytes that reached another socket while a request was being handled", async () => {
    const [toRequest, toPush] = accepted as [Socket, Socket];
    const handled: string[] = [];
    push.on("data", (chunk) => handled.push(`push ${chunk}`));
    const served = new Promise<{ before: string[]; after: string[] }>((resolve) => {
      request.once("data", () => {
        // Handling the request (an I/O callback): the push lands in its socket now, after this turn's poll.
        toPush.write("invalidate");
        const before = [...handled];
        void nextIoTurn().then(() => resolve({ before, after: [...handled] }));
      });
    });
    toRequest.write("GET");
    expect(await served).toEqual({ before: [], after: ["push invalidate"] });
  });
});
