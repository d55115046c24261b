import { setFlagsFromString } from "node:v8";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import jsonPatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import { bookingPod, policy } from "../../test/fixtures.js";
import { admit } from "../webhook/admission.js";
import { type InjectOptions, injectSidecar, isInjected, parseInjectionStatus } from "./inject-sidecar.js";
import { appPortName } from "./ports.js";

const options: InjectOptions = {
  image: "ghcr.io/apicache/sidecar:0.1.0",
  version: "0.1.0",
  nativeSidecar: true,
  configHash: "sha256:abc",
};

function injected(pod: V1Pod, opts: Partial<InjectOptions> = {}, p = policy()): V1Pod {
  const result = injectSidecar(pod, p, { ...options, ...opts });
  if (!result.injected) throw new Error(`not injected: ${result.reason}`);
  return result.pod;
}

function sidecarOf(pod: V1Pod): V1Container {
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const sidecar = all.find((c) => c.name === "apicache-sidecar");
  if (!sidecar) throw new Error("no sidecar");
  return sidecar;
}

describe("injectSidecar", () => {
  describe("with a named upstream port", () => {
    const pod = injected(bookingPod());
    const app = pod.spec?.containers[0] as V1Container;
    const sidecar = sidecarOf(pod);

    it("renames the app's port and gives its name to the sidecar", () => {
      expect(app.ports?.map((p) => p.name)).toEqual(["http-app", "metrics"]);
      expect(sidecar.ports).toEqual([
        { name: "http", containerPort: 9900, protocol: "TCP" },
        { name: "apicache-admin", containerPort: 9901, protocol: "TCP" },
      ]);
    });

    it("points probes that named the old port at the renamed app port", () => {
      expect(app.readinessProbe?.httpGet?.port).toBe("http-app");
      expect(app.livenessProbe?.tcpSocket?.port).toBe("http-app");
    });

    it("leaves probes by number alone (they reach the app directly)", () => {
      expect(app.startupProbe?.httpGet?.port).toBe(8080);
    });

    it("runs the sidecar per the CLI contract, in front of the app's port number", () => {
      expect(sidecar.args).toEqual([
        "--policy",
        "/etc/apicache/policy.yaml",
        "--policy-configmap",
        "shop/apicache-booking-api",
        "--upstream",
        "http://127.0.0.1:8080",
        "--listen",
        "0.0.0.0:9900",
        "--admin",
        "0.0.0.0:9901",
        "--admin-token-file",
        "/var/run/apicache/admin/token",
        "--admin-token-wait",
      ]);
      expect(sidecar.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "apicache-admin" });
      expect(sidecar.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
    });

    it("leaves the UID and GID to the cluster with pinUser false (OpenShift's SCC), still non-root", () => {
      const context = sidecarOf(injected(bookingPod(), { pinUser: false })).securityContext;
      expect(context).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false });
      expect(context).not.toHaveProperty("runAsUser");
      expect(context).not.toHaveProperty("runAsGroup");
    });

    it("mounts the policy ConfigMap as a directory, never with subPath", () => {
      expect(pod.spec?.volumes).toContainEqual({
        name: "apicache-config",
        configMap: { name: "apicache-booking-api" },
      });
      expect(sidecar.volumeMounts).toContainEqual({
        name: "apicache-config",
        mountPath: "/etc/apicache",
        readOnly: true,
      });
    });

    it("mounts the policy's admin token Secret read-only, optional so the pod starts before it exists", () => {
      expect(pod.spec?.volumes).toContainEqual({
        name: "apicache-admin-token",
        secret: { secretName: "apicache-booking-api-admin", optional: true },
      });
      expect(sidecar.volumeMounts).toEqual([
        { name: "apicache-config", mountPath: "/etc/apicache", readOnly: true },
        { name: "apicache-admin-token", mountPath: "/var/run/apicache/admin", readOnly: true },
      ]);
      expect(app.volumeMounts ?? []).not.toContainEqual(
        expect.objectContaining({ name: "apicache-admin-token" }),
      );
    });

    it.each(["apicache-config", "apicache-admin-token"])(
      "leaves a pod that already has a volume named %s alone",
      (name) => {
        const pod = bookingPod();
        pod.spec = { ...pod.spec, containers: pod.spec?.containers ?? [], volumes: [{ name, emptyDir: {} }] };
        expect(injectSidecar(pod, policy(), options)).toMatchObject({
          injected: false,
          reason: "NameConflict",
        });
      },
    );

    it("records the policy and config hash in the status annotation", () => {
      expect(parseInjectionStatus(pod)).toEqual({
        policy: "booking-api",
        configHash: "sha256:abc",
        version: "0.1.0",
        native: true,
      });
    });
  });

  describe("native versus plain sidecar", () => {
    it.each([
      { native: true, initNames: ["apicache-sidecar", "migrate"], names: ["api"], restartPolicy: "Always" },
      { native: false, initNames: ["migrate"], names: ["api", "apicache-sidecar"], restartPolicy: undefined },
    ])("native=$native puts it in $initNames / $names", ({ native, initNames, names, restartPolicy }) => {
      const pod = injected(bookingPod(), { nativeSidecar: native });
      expect(pod.spec?.initContainers?.map((c) => c.name)).toEqual(initNames);
      expect(pod.spec?.containers.map((c) => c.name)).toEqual(names);
      expect(sidecarOf(pod).restartPolicy).toBe(restartPolicy);
    });
  });

  describe("with a numbered upstream port", () => {
    it("takes over the declared port's name when it has one", () => {
      const pod = injected(bookingPod(), {}, policy({ port: 8080 }));
      expect(pod.spec?.containers[0]?.ports?.[0]?.name).toBe("http-app");
      expect(sidecarOf(pod).ports?.[0]).toMatchObject({ name: "http", containerPort: 9900 });
    });

    it("fronts an undeclared port under the name apicache-proxy", () => {
      const pod = injected(bookingPod(), {}, policy({ port: 3000 }));
      expect(sidecarOf(pod).args).toContain("http://127.0.0.1:3000");
      expect(sidecarOf(pod).ports?.[0]).toMatchObject({ name: "apicache-proxy" });
      expect(pod.spec?.containers[0]?.ports?.[0]?.name).toBe("http");
    });

    it("moves its own listener off a port the app already uses", () => {
      const pod = bookingPod();
      pod.spec?.containers[0]?.ports?.push({ name: "other", containerPort: 9900 });
      expect(sidecarOf(injected(pod)).ports?.[0]?.containerPort).toBe(9902);
    });
  });

  it("passes the Redis URL only as a secretKeyRef, and no other environment", () => {
    const env = sidecarOf(injected(bookingPod(), {}, policy({ redis: true }))).env;
    expect(env).toEqual([
      { name: "APICACHE_REDIS_URL", valueFrom: { secretKeyRef: { name: "redis-cache", key: "url" } } },
    ]);
  });

  it("sets no environment at all without Redis (the sidecar reads only what its flags and config say)", () => {
    expect(sidecarOf(injected(bookingPod())).env).toBeUndefined();
  });

  describe("leaves the pod alone", () => {
    const already = injected(bookingPod());
    const plainInjected = bookingPod({
      containers: [
        { name: "api", image: "x" },
        { name: "apicache-sidecar", image: "y" },
      ],
    });
    const nativeInjected = bookingPod({
      initContainers: [{ name: "apicache-sidecar", image: "y", restartPolicy: "Always" }],
    });
    it.each([
      ["already injected (status annotation)", already, "AlreadyInjected"],
      ["with our container in containers", plainInjected, "AlreadyInjected"],
      ["with our container in initContainers", nativeInjected, "AlreadyInjected"],
      [
        "opted out by label",
        bookingPod({}, { app: "booking-api", "apicache.io/inject": "false" }),
        "OptedOut",
      ],
      ["on the host network", bookingPod({ hostNetwork: true }), "HostNetwork"],
    ])("when %s", (_, pod, reason) => {
      const result = injectSidecar(pod, policy(), options);
      expect(result).toMatchObject({ injected: false, reason });
      expect(result.pod).toBe(pod);
    });

    it("when no container declares the named port", () => {
      expect(injectSidecar(bookingPod(), policy({ port: "grpc" }), options)).toMatchObject({
        injected: false,
        reason: "UnknownUpstreamPort",
      });
    });
  });

  it("is idempotent: injecting the injected pod changes nothing", () => {
    const once = injected(bookingPod());
    expect(isInjected(once)).toBe(true);
    expect(injectSidecar(once, policy(), options).pod).toEqual(once);
  });

  it("does not modify its input", () => {
    const pod = bookingPod();
    const before = structuredClone(pod);
    injected(pod);
    expect(pod).toEqual(before);
  });
});

describe("appPortName", () => {
  it.each([
    ["http", "http-app"],
    ["web", "web-app"],
    ["very-long-name1", "very-long-n-app"],
    ["abcdefghij-xyz", "abcdefghij-app"],
  ])("renames %s to %s (≤ 15 chars)", (name, expected) => {
    expect(appPortName(name)).toBe(expected);
    expect(appPortName(name).length).toBeLessThanOrEqual(15);
  });
});

describe("the admission response", () => {
  const review = (pod: V1Pod, operation = "CREATE") => ({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: { uid: "u-1", kind: { kind: "Pod" }, operation, namespace: "shop", object: pod },
  });
  const deps = {
    findPolicy: (_ns: string, labels: Record<string, string> | undefined) =>
      labels?.app === "booking-api" ? { policy: policy(), configHash: "sha256:abc" } : undefined,
    options: { image: options.image, version: options.version, nativeSidecar: true },
  };

  it("is a JSON patch that, applied to the pod, gives injectSidecar's output", () => {
    const pod = bookingPod();
    const outcome = admit(review(pod), deps);
    const patch = JSON.parse(
      Buffer.from((outcome.response as { response: { patch: string } }).response.patch, "base64").toString(),
    ) as jsonPatch.Operation[];
    const patched = jsonPatch.applyPatch(structuredClone(pod), patch, true, false).newDocument;
    expect(patched).toEqual(injected(pod));
    expect(outcome.result).toBe("injected");
    // The native sidecar goes in front of the pod's own init container, which the patch leaves alone
    // (its values are not re-sent: they went through JS numbers).
    expect(patch).toContainEqual(expect.objectContaining({ op: "add", path: "/spec/initContainers/0" }));
    expect(patch.filter((op) => op.path.startsWith("/spec/initContainers/"))).toHaveLength(1);
  });

  it.each([
    ["a pod no policy selects", bookingPod({}, { app: "other" }), "CREATE"],
    ["an update", bookingPod(), "UPDATE"],
  ])("allows %s unchanged", (_, pod, operation) => {
    const outcome = admit(review(pod, operation), deps);
    expect(outcome.response).toEqual({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: "u-1", allowed: true },
    });
  });

  describe("in a namespace with LimitRanges", () => {
    const limited = (limits: object[]) => ({
      ...deps,
      limitRanges: (namespace: string) =>
        namespace === "shop" ? [{ spec: { limits: limits.map((l) => ({ type: "Container", ...l })) } }] : [],
    });

    it("warns that the sidecar's resources were fitted", () => {
      const outcome = admit(review(bookingPod()), limited([{ max: { cpu: "300m" } }]));
      expect(outcome.result).toBe("injected");
      expect((outcome.response as { response: { warnings: string[] } }).response.warnings).toEqual([
        expect.stringMatching(/cpu request\/limit 50m\/500m were fitted .*: 50m\/300m/),
      ]);
    });

    it("admits the pod unchanged, with a warning, when no resources fit", () => {
      const outcome = admit(review(bookingPod()), limited([{ min: { cpu: "2" }, max: { cpu: "1" } }]));
      expect(outcome).toMatchObject({ result: "skipped", detail: "ResourceLimits", patch: [] });
      expect(outcome.response).toMatchObject({
        response: {
          allowed: true,
          warnings: [expect.stringMatching(/sidecar not injected: no cpu request/)],
        },
      });
    });
  });
});

describe("injectSidecar, call after call", () => {
  it("builds pods whose objects keep their hidden classes, not new ones per admission (ADR 0036)", () => {
    // V8's own check, compiled once the flag is set: do two objects share a map (hidden class)?
    setFlagsFromString("--allow-natives-syntax");
    const sameMap = new Function("a", "b", "return %HaveSameMap(a, b)") as (a: object, b: object) => boolean;
    // From about the ninth call, V8's inline caches are in use: where it would go wrong, it has.
    for (const nativeSidecar of [true, false]) {
      // A pod with annotations of its own, as most have (a rollout's restartedAt, a checksum).
      const annotated = () => {
        const pod = bookingPod();
        if (pod.metadata)
          pod.metadata.annotations = { "kubectl.kubernetes.io/restartedAt": "2026-12-07T10:00:00Z" };
        return pod;
      };
      const pods = Array.from({ length: 20 }, () => injected(annotated(), { nativeSidecar }));
      const own: string[] = [];
      const compare = (a: unknown, b: unknown, path: string) => {
        if (a === null || typeof a !== "object" || b === null || typeof b !== "object") return;
        if (!sameMap(a, b)) own.push(path);
        for (const key of Object.keys(a)) {
          compare((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`);
        }
      };
      compare(pods[18], pods[19], "pod");
      expect(own, `native sidecar: ${nativeSidecar}`).toEqual([]);
    }
  });
});
