import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HttpMethod, RequestContext } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { loadKubeConfig, sameValue } from "./kube-config.js";

/** A kubeconfig file with inline CA data and a token (no server is contacted). */
function kubeconfigFile(ca: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "apicache-kubeconfig-")), "kubeconfig");
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "c",
          cluster: {
            server: "https://127.0.0.1:6443",
            "certificate-authority-data": Buffer.from(ca).toString("base64"),
          },
        },
      ],
      users: [{ name: "u", user: { token: "t" } }],
      contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
      "current-context": "x",
    }),
  );
  return path;
}

async function dispatcherOf(kubeConfig: ReturnType<typeof loadKubeConfig>) {
  const context = new RequestContext("https://127.0.0.1:6443/api/v1/pods", HttpMethod.GET);
  await kubeConfig.applySecurityAuthentication(context);
  expect(context.getHeaders().Authorization).toBe("Bearer t");
  return context.getDispatcher();
}

describe("loadKubeConfig", () => {
  it("reuses one connection pool (undici Agent) for every request with the same TLS settings", async () => {
    const kubeConfig = loadKubeConfig(kubeconfigFile("ca one"));
    const first = await dispatcherOf(kubeConfig);
    expect(first).toBeDefined();
    expect(await dispatcherOf(kubeConfig)).toBe(first);
    expect(await dispatcherOf(kubeConfig)).toBe(first);
  });

  it("builds a new pool when the TLS settings differ (another CA)", async () => {
    const one = await dispatcherOf(loadKubeConfig(kubeconfigFile("ca one")));
    const kubeConfig = loadKubeConfig(kubeconfigFile("ca two"));
    const two = await dispatcherOf(kubeConfig);
    expect(two).not.toBe(one);
    kubeConfig.clusters[0] = {
      ...kubeConfig.clusters[0],
      caData: Buffer.from("ca three").toString("base64"),
    } as never;
    expect(await dispatcherOf(kubeConfig)).not.toBe(two);
  });
});

describe("sameValue (the dispatcher options' comparison)", () => {
  it.each([
    [
      { connect: { ca: Buffer.from("x"), rejectUnauthorized: true } },
      { connect: { ca: Buffer.from("x"), rejectUnauthorized: true } },
      true,
    ],
    [{ connect: { ca: Buffer.from("x") } }, { connect: { ca: Buffer.from("y") } }, false],
    [{ connect: { ca: Buffer.from("x") } }, { connect: { ca: "x" } }, false],
    [{ type: "agent", uri: undefined }, { type: "agent" }, true],
    [{ ca: [Buffer.from("a")] }, { ca: [Buffer.from("a"), Buffer.from("b")] }, false],
    [{ a: 1 }, { a: 1, b: 2 }, false],
  ])("%#: %s", (a, b, same) => {
    expect(sameValue(a, b)).toBe(same);
    expect(sameValue(b, a)).toBe(same);
  });
});
