import type { KubernetesObjectApi } from "@kubernetes/client-node";
import { describe, expect, it, vi } from "vitest";
import type { Config } from "../config.js";
import type { ReleaseOwner } from "../kube/release-owner.js";
import { webhookRegistrar } from "./registrar.js";

const config = {
  namespace: "apicache-system",
  webhookService: "apicache-webhook",
  webhookConfigurationName: "apicache",
  webhookTimeoutSeconds: 5,
} as Config;

const found = { apiVersion: "admissionregistration.k8s.io/v1", kind: "MutatingWebhookConfiguration" };

/** A registrar whose owner lookup and apply answer what the test says. */
function setup(answers: { lookup?: () => Promise<unknown>; apply?: () => Promise<unknown> } = {}) {
  const patch = vi.fn(answers.apply ?? (async () => ({})));
  const objectsFor = vi.fn((_term: AbortSignal) => ({ patch }) as unknown as KubernetesObjectApi);
  const owner = {
    forCreate: answers.lookup ?? (async () => ({ ...found, name: "apicache", uid: "uid-a" })),
  } as unknown as ReleaseOwner;
  const register = webhookRegistrar(config, { kubeConfig: undefined as never, owner, objectsFor });
  return { register, patch, objectsFor };
}

describe("the webhook registrar", () => {
  it("applies the configuration, with the caBundle and the owner's UID, through a client of the term", async () => {
    const { register, patch, objectsFor } = setup();
    const term = new AbortController().signal;
    await register("PEM", term);
    await register("PEM", term);
    expect(objectsFor.mock.calls).toEqual([[term]]); // one client per term, not per apply
    expect(patch).toHaveBeenCalledTimes(2);
    const [body, , , , , strategy] = patch.mock.calls[0] as unknown as [
      { metadata: { uid: string }; webhooks: { clientConfig: { caBundle: string } }[] },
      ...unknown[],
    ];
    expect(body.metadata.uid).toBe("uid-a");
    expect(body.webhooks[0]?.clientConfig.caBundle).toBe(Buffer.from("PEM").toString("base64"));
    expect(strategy).toBe("application/apply-patch+yaml");
  });

  it("applies nothing when the term ends while the owner lookup is held up", async () => {
    let answer: (value: unknown) => void = () => undefined;
    const { register, patch } = setup({ lookup: () => new Promise((resolve) => (answer = resolve)) });
    const term = new AbortController();
    const registering = register("PEM", term.signal);
    term.abort();
    await expect(registering).rejects.toThrow();
    answer({ ...found, name: "apicache", uid: "uid-a" }); // the partition heals
    await Promise.resolve();
    expect(patch).not.toHaveBeenCalled();
  });

  it("returns as soon as the term ends while the apply hangs", async () => {
    const { register, patch } = setup({ apply: () => new Promise(() => undefined) });
    const term = new AbortController();
    const registering = register("PEM", term.signal);
    await vi.waitFor(() => expect(patch).toHaveBeenCalled());
    term.abort();
    await expect(registering).rejects.toThrow(/registering MutatingWebhookConfiguration apicache failed/);
  });

  it("applies nothing for a term that has already ended", async () => {
    const { register, patch } = setup();
    await expect(register("PEM", AbortSignal.abort())).rejects.toThrow();
    expect(patch).not.toHaveBeenCalled();
  });
});
