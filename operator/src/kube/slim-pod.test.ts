import { describe, expect, it } from "vitest";
import { bookingPod, policy } from "../../test/fixtures.js";
import { countPods } from "../status/pod-counts.js";
import { slimPod } from "./slim-pod.js";

describe("slimPod", () => {
  it("keeps what the status counts read: the counts of a slim pod equal those of the full one", () => {
    const injected = bookingPod();
    const full = {
      ...injected,
      metadata: {
        ...injected.metadata,
        uid: "u1",
        resourceVersion: "9",
        annotations: {
          "apicache.io/status": JSON.stringify({ policy: "booking-api", configHash: "sha256:x" }),
          "kubectl.kubernetes.io/last-applied-configuration": "x".repeat(5_000),
        },
        managedFields: [{ manager: "kubectl", fieldsV1: { big: "x".repeat(5_000) } }],
      },
    };
    const pods = [bookingPod(), full];
    const slim = pods.map(slimPod);
    expect(countPods(slim, policy(), "sha256:x")).toEqual(countPods(pods, policy(), "sha256:x"));
    expect(JSON.stringify(slimPod(full)).length).toBeLessThan(JSON.stringify(full).length / 10);
    // Injected (the annotation says so): no containers kept, and the webhook's verdict stays.
    expect(slimPod(full).spec?.containers).toEqual([]);
    expect(slimPod(bookingPod()).spec?.containers?.length).toBeGreaterThan(0);
  });

  it("drops everything else: env, images, volumes, managedFields, other annotations", () => {
    const slim = slimPod({
      metadata: { name: "p", namespace: "n", annotations: { other: "a" }, managedFields: [{}] },
      spec: {
        containers: [
          {
            name: "app",
            image: "img",
            env: [{ name: "SECRET", value: "v" }],
            ports: [{ containerPort: 80 }],
          },
        ],
        volumes: [{ name: "v" }],
      },
      status: { phase: "Running", podIP: "10.0.0.1" },
    });
    expect(slim).toEqual({
      metadata: { name: "p", namespace: "n" },
      spec: { containers: [{ name: "app", ports: [{ containerPort: 80 }] }] },
      status: { phase: "Running" },
    });
  });
});
