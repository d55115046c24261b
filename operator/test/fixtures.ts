import { type CachePolicy, parseCachePolicyOrThrow } from "@apicache/crds";
import type { V1Pod } from "@kubernetes/client-node";
import type { StoredPolicy } from "../src/policy/types.js";

/** Shared unit-test fixtures: real-shaped Pods and CachePolicies. */
export function storedPolicy(overrides: {
  name?: string;
  namespace?: string;
  selector?: object;
  port?: number | string;
  created?: string;
  generation?: number;
  spec?: object;
  redis?: boolean;
}): StoredPolicy {
  const name = overrides.name ?? "booking-api";
  return {
    apiVersion: "apicache.io/v1alpha1",
    kind: "CachePolicy",
    metadata: {
      name,
      namespace: overrides.namespace ?? "shop",
      uid: `uid-${name}`,
      generation: overrides.generation ?? 1,
      resourceVersion: "1",
      creationTimestamp: overrides.created ?? "2025-01-01T00:00:00Z",
    },
    spec: {
      selector: overrides.selector ?? { matchLabels: { app: name } },
      upstream: { port: overrides.port ?? "http" },
      ...(overrides.redis ? { store: { redis: { urlSecretRef: { name: "redis-cache", key: "url" } } } } : {}),
      routes: [
        { name: "slots", path: "/api/v2/barbers/:barberId/slots", ttl: "60s", tags: ["barber:{barberId}"] },
      ],
      ...overrides.spec,
    },
  };
}

export function policy(overrides: Parameters<typeof storedPolicy>[0] = {}): CachePolicy {
  return parseCachePolicyOrThrow(storedPolicy(overrides));
}

/** A Deployment-made pod: named port http on 8080, probes by name, an init container. */
export function bookingPod(
  overrides: Partial<V1Pod["spec"]> = {},
  labels: Record<string, string> = { app: "booking-api" },
): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { generateName: "booking-api-7d9f-", namespace: "shop", labels },
    spec: {
      serviceAccountName: "booking-api",
      initContainers: [{ name: "migrate", image: "example.com/booking-api:1.4", args: ["migrate"] }],
      containers: [
        {
          name: "api",
          image: "example.com/booking-api:1.4",
          ports: [
            { name: "http", containerPort: 8080, protocol: "TCP" },
            { name: "metrics", containerPort: 9090, protocol: "TCP" },
          ],
          readinessProbe: { httpGet: { path: "/ready", port: "http" }, periodSeconds: 5 },
          livenessProbe: { tcpSocket: { port: "http" } },
          startupProbe: { httpGet: { path: "/started", port: 8080 } },
        },
      ],
      ...overrides,
    },
  };
}

/** bookingPod as the webhook admitted it for `policy`: the injection status annotation, nothing else. */
export function injectedBookingPod(
  configHash: string,
  overrides: Partial<V1Pod["spec"]> = {},
  policy = "booking-api",
): V1Pod {
  const pod = bookingPod(overrides);
  const status = { policy, configHash, version: "0.1.0", native: true };
  pod.metadata = { ...pod.metadata, annotations: { "apicache.io/status": JSON.stringify(status) } };
  return pod;
}
