import { createServer, IncomingMessage, request, type Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setFlagsFromString } from "node:v8";
import type { Express } from "express";
import { afterEach, describe, expect, it } from "vitest";
import { appMessages, exactApp } from "./express-app.js";

interface Seen {
  readonly requestPrototype: boolean;
  readonly responsePrototype: boolean;
}

/**
 * An exact app with one route, served on loopback by the server `build` makes; `seen` records, as the
 * server emits each request and before express gets it, whether it already has the app's prototypes.
 */
async function serve(build: (app: Express) => Server) {
  const app = exactApp();
  const seen: Seen[] = [];
  app.post("/echo", (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const ok = req.app === app && res.req === req && req instanceof IncomingMessage;
      res.writeHead(200, { "content-type": "text/plain" }).end(ok ? Buffer.concat(chunks) : "not express");
    });
  });
  const server = build(app);
  server.prependListener("request", (req, res) =>
    seen.push({
      requestPrototype: Object.getPrototypeOf(req) === app.request,
      responsePrototype: Object.getPrototypeOf(res) === app.response,
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, seen, port: (server.address() as AddressInfo).port };
}

function post(port: number, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/echo", method: "POST", agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("appMessages", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it("has the server build requests and responses with the app's prototypes, so express swaps none", async () => {
    const served = await serve((app) => createServer(appMessages(app), app));
    server = served.server;
    expect(await post(served.port, "one")).toEqual({ status: 200, text: "one" });
    expect(await post(served.port, "two")).toEqual({ status: 200, text: "two" });
    expect(served.seen).toEqual([
      { requestPrototype: true, responsePrototype: true },
      { requestPrototype: true, responsePrototype: true },
    ]);
  });

  it("leaves node's own classes to a server built without it (express then swaps the prototypes)", async () => {
    const served = await serve((app) => createServer(app));
    server = served.server;
    expect(await post(served.port, "one")).toEqual({ status: 200, text: "one" });
    expect(served.seen).toEqual([{ requestPrototype: false, responsePrototype: false }]);
  });

  it("builds every request with one hidden class, not one per request (dead maps fill the old generation)", () => {
    // V8's own check, compiled after the flag is set: two objects share a map (hidden class).
    setFlagsFromString("--allow-natives-syntax");
    const sameMap = new Function("a", "b", "return %HaveSameMap(a, b)") as (a: object, b: object) => boolean;
    const { IncomingMessage: Request, ServerResponse: Response } = appMessages(exactApp());
    const built = Array.from({ length: 3 }, () => new Request(undefined as never));
    expect(sameMap(built[1] as object, built[2] as object)).toBe(true);
    expect(
      sameMap(new Response(built[0] as IncomingMessage), new Response(built[1] as IncomingMessage)),
    ).toBe(true);
  });

  it("builds instances of node's classes", () => {
    const { IncomingMessage: Request, ServerResponse: Response } = appMessages(exactApp());
    const req = new Request(undefined as never);
    expect(req).toBeInstanceOf(IncomingMessage);
    expect(new Response(req)).toBeInstanceOf(ServerResponse);
  });
});
