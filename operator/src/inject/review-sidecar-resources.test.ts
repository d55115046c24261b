/**
 * Review reproducer: LimitRange fitting ignores `type: Pod` limits (expected to FAIL).
 * The LimitRanger admission plugin checks a Pod-type item against the SUM of the pod's containers;
 * adding the sidecar's 500m CPU / 192Mi limit can push an admitted-before pod over it, so the API
 * server rejects the pod — the webhook then blocks the pod it promises never to block.
 */
import { parseResourceQuantity } from "@apicache/crds";
import type { V1Container, V1LimitRange } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { bookingPod, policy } from "../../test/fixtures.js";
import { injectSidecar } from "./inject-sidecar.js";

const podLimit: V1LimitRange = {
  metadata: { name: "pod-limits", namespace: "shop" },
  spec: { limits: [{ type: "Pod", max: { cpu: "1", memory: "1Gi" } }] },
};

describe("review: a namespace with a Pod-type LimitRange", () => {
  it("never produces a pod whose summed limits exceed the Pod max (inject within it, or skip)", () => {
    const pod = bookingPod();
    const app = pod.spec?.containers[0] as V1Container;
    app.resources = { requests: { cpu: "400m", memory: "512Mi" }, limits: { cpu: "800m", memory: "800Mi" } };
    const result = injectSidecar(pod, policy(), {
      image: "ghcr.io/apicache/sidecar:0.1.0",
      version: "0.1.0",
      nativeSidecar: false,
      configHash: "sha256:x",
      limitRanges: [podLimit],
    });
    if (!result.injected) return; // skipping is an acceptable answer
    const all = [...(result.pod.spec?.containers ?? []), ...(result.pod.spec?.initContainers ?? [])].filter(
      (c) => c.name !== "migrate",
    );
    const sum = (name: "cpu" | "memory") =>
      all.reduce((total, c) => total + parseResourceQuantity(String(c.resources?.limits?.[name] ?? 0)), 0);
    expect(sum("cpu")).toBeLessThanOrEqual(1);
    expect(sum("memory")).toBeLessThanOrEqual(1024 * 1024 * 1024);
  });
});
