import { describe, expect, it } from "vitest";
import { createRoundRobinClient, type HttpClient } from "./http-client.js";

/** A client that records what it was asked to send and answers with its own name. */
function recordingClient(name: string, sent: string[]): HttpClient & { closed: boolean } {
  const client = {
    closed: false,
    send: async (
      method: string,
      path: string,
      options: { headers?: Readonly<Record<string, string>> } = {},
    ) => {
      sent.push(
        `${name} ${method} ${path} host=${options.headers?.host ?? "-"} auth=${options.headers?.authorization ?? "-"}`,
      );
      return { status: 200, headers: {}, body: name, latencyMs: 0 };
    },
    close: () => {
      client.closed = true;
    },
  };
  return client;
}

describe("createRoundRobinClient", () => {
  describe("when requests are sent", () => {
    it("sends each to the next client in turn, all with the same host", async () => {
      const sent: string[] = [];
      const client = createRoundRobinClient(
        ["a", "b", "c"].map((name) => recordingClient(name, sent)),
        "api.example",
      );
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push((await client.send("GET", `/x/${i}`)).body);
      expect(answers).toEqual(["a", "b", "c", "a"]);
      expect(sent).toEqual([
        "a GET /x/0 host=api.example auth=-",
        "b GET /x/1 host=api.example auth=-",
        "c GET /x/2 host=api.example auth=-",
        "a GET /x/3 host=api.example auth=-",
      ]);
    });

    it("keeps the request's own headers, its host included", async () => {
      const sent: string[] = [];
      const client = createRoundRobinClient([recordingClient("a", sent)], "api.example");
      await client.send("GET", "/d", { headers: { authorization: "Bearer u" } });
      await client.send("GET", "/d", { headers: { host: "other.example" } });
      expect(sent).toEqual(["a GET /d host=api.example auth=Bearer u", "a GET /d host=other.example auth=-"]);
    });
  });

  it("closes every client", () => {
    const clients = ["a", "b"].map((name) => recordingClient(name, []));
    createRoundRobinClient(clients, "h").close();
    expect(clients.map((c) => c.closed)).toEqual([true, true]);
  });

  it("refuses an empty list", () => {
    expect(() => createRoundRobinClient([], "h")).toThrow(/at least one/);
  });
});
