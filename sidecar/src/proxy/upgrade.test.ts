import { describe, expect, it } from "vitest";
import {
  errorResponse,
  plainRequestHead,
  requestHead,
  responseStatus,
  tunnelledProtocols,
  upgradeHeaders,
} from "./upgrade.js";

describe("upgrade request headers", () => {
  const forwarded = { host: "api.example", "x-forwarded-for": "10.0.0.9", "x-forwarded-proto": "http" };

  it("keeps Upgrade and sends Connection: upgrade alone, whatever else the client's Connection listed", () => {
    const headers = upgradeHeaders(
      forwarded,
      { upgrade: "websocket", connection: "keep-alive, Upgrade", "keep-alive": "timeout=5" },
      "127.0.0.1:8080",
    );
    expect(headers).toEqual({ ...forwarded, upgrade: "websocket", connection: "upgrade" });
  });

  it("leaves h2c out of the protocols offered", () => {
    const headers = upgradeHeaders(forwarded, { upgrade: "h2c, x-proto/2" }, "127.0.0.1:8080");
    expect(headers.upgrade).toBe("x-proto/2");
  });

  it("keeps Transfer-Encoding, because the body is relayed as raw bytes", () => {
    const headers = upgradeHeaders(
      forwarded,
      { upgrade: "x-proto", connection: "upgrade", "transfer-encoding": "chunked" },
      "127.0.0.1:8080",
    );
    expect(headers["transfer-encoding"]).toBe("chunked");
  });

  it("gives a request without Host the upstream's host", () => {
    const { host: _host, ...withoutHost } = forwarded;
    const headers = upgradeHeaders(withoutHost, { upgrade: "websocket" }, "127.0.0.1:8080");
    expect(headers.host).toBe("127.0.0.1:8080");
  });

  it("does not change the forwarded fields it was given", () => {
    const given = { ...forwarded };
    upgradeHeaders(given, { upgrade: "websocket", connection: "upgrade" }, "127.0.0.1:8080");
    expect(given).toEqual(forwarded);
  });
});

describe("the protocols the sidecar tunnels", () => {
  it.each([
    ["websocket", ["websocket"]],
    ["WebSocket", ["WebSocket"]],
    ["h2c", []],
    ["H2C", []],
    ["h2c, websocket", ["websocket"]],
    [
      ["x-a", "x-b/1.0"],
      ["x-a", "x-b/1.0"],
    ],
    ["", []],
    [undefined, []],
  ])("of Upgrade %j are %j", (upgrade, protocols) => {
    expect(tunnelledProtocols(upgrade)).toEqual(protocols);
  });
});

describe("a declined h2c offer, parsed again as a plain request", () => {
  const request = (rawHeaders: string[]) => ({
    method: "GET",
    url: "/things/1?x=1",
    httpVersion: "1.1",
    rawHeaders,
  });

  it("keeps the head as received, minus Upgrade, HTTP2-Settings and their Connection tokens", () => {
    const head = plainRequestHead(
      request([
        "Host",
        "api.example",
        "Connection",
        "Upgrade, HTTP2-Settings",
        "Content-Length",
        "0",
        "Upgrade",
        "h2c",
        "HTTP2-Settings",
        "AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA",
        "User-Agent",
        "Java-http-client/21",
      ]),
    );
    expect(head).toBe(
      "GET /things/1?x=1 HTTP/1.1\r\nHost: api.example\r\nContent-Length: 0\r\nUser-Agent: Java-http-client/21\r\n\r\n",
    );
  });

  it("keeps the other Connection tokens", () => {
    const head = plainRequestHead(
      request(["Host", "a", "Connection", "keep-alive, Upgrade, HTTP2-Settings", "Upgrade", "h2c"]),
    );
    expect(head).toBe("GET /things/1?x=1 HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n");
  });
});

describe("the upgrade request head", () => {
  it("writes the request line, one line per field value and a blank line", () => {
    const head = requestHead("GET", "/ws?room=1", {
      host: "api.example",
      upgrade: "websocket",
      cookie: ["a=1", "b=2"],
    });
    expect(head).toBe(
      "GET /ws?room=1 HTTP/1.1\r\nhost: api.example\r\nupgrade: websocket\r\ncookie: a=1\r\ncookie: b=2\r\n\r\n",
    );
  });
});

describe("the upstream's answer status", () => {
  it.each([
    ["HTTP/1.1 101 Switching Protocols\r\n", 101],
    ["HTTP/1.1 426 Upgrade Required\r\ncontent-length: 0\r\n\r\n", 426],
    ["HTTP/1.0 400 Bad Request\r\n", 400],
    ["HTTP/1.1 200\r\n", 200],
    ["HTTP/1.1 10", undefined],
    ["SSH-2.0-OpenSSH_9.6\r\n", undefined],
    ["HTTP/1.1 999 Nope\r\n", undefined],
  ])("reads %j as %s", (bytes, status) => {
    expect(responseStatus(Buffer.from(bytes, "latin1"))).toBe(status);
  });
});

describe("the sidecar's own answer when the upstream fails", () => {
  it.each([
    ["refused", 502, "Bad Gateway", "APICACHE_ERR_UPSTREAM_REFUSED"],
    ["reset", 502, "Bad Gateway", "APICACHE_ERR_UPSTREAM_RESET"],
    ["timeout", 504, "Gateway Timeout", "APICACHE_ERR_UPSTREAM_TIMEOUT"],
  ] as const)("on %s is a complete %i response that closes the connection", (reason, status, text, code) => {
    const answer = errorResponse(status, reason);
    const [head, body] = answer.split("\r\n\r\n") as [string, string];
    const lines = head.split("\r\n");
    expect(lines[0]).toBe(`HTTP/1.1 ${status} ${text}`);
    expect(lines).toContain("cache-status: apicache; fwd=bypass; detail=upgrade");
    expect(lines).toContain("connection: close");
    expect(lines).toContain(`content-length: ${Buffer.byteLength(body)}`);
    expect(JSON.parse(body)).toMatchObject({ error: code });
  });
});
