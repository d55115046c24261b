import type { V1Container, V1Pod, V1Probe } from "@kubernetes/client-node";

/**
 * Named-port handoff, pure: find the app port the policy fronts, derive the name the app's port is
 * renamed to, rewrite the app container's probes that used the old name. (Types only from
 * client-node: no client code runs here.)
 */
export interface UpstreamPort {
  /** Index in spec.containers of the container that declares the port; -1 when none declares it. */
  readonly containerIndex: number;
  readonly portIndex: number;
  readonly number: number;
  /** The declared port's name, when it has one. */
  readonly name?: string;
}

/** IANA service names (container port names): ≤ 15 chars, [a-z0-9-], a letter, no "--", no edge "-". */
export function isPortName(name: string): boolean {
  return (
    name.length >= 1 &&
    name.length <= 15 &&
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name) &&
    /[a-z]/.test(name) &&
    !name.includes("--")
  );
}

/** `http` -> `http-app`; long names are cut so the result stays a valid port name (≤ 15 chars). */
export function appPortName(name: string): string {
  const stem = name.slice(0, 11).replace(/-+$/, "");
  return `${stem}-app`;
}

export function findUpstreamPort(pod: V1Pod, port: number | string): UpstreamPort | undefined {
  const containers = pod.spec?.containers ?? [];
  for (const [containerIndex, container] of containers.entries()) {
    for (const [portIndex, declared] of (container.ports ?? []).entries()) {
      const matches = typeof port === "string" ? declared.name === port : declared.containerPort === port;
      if (!matches) continue;
      return {
        containerIndex,
        portIndex,
        number: declared.containerPort,
        ...(declared.name ? { name: declared.name } : {}),
      };
    }
  }
  if (typeof port === "number") return { containerIndex: -1, portIndex: -1, number: port };
  return undefined;
}

/** Every container port name and number in the pod (containers and init containers). */
export function usedPorts(pod: V1Pod): { names: Set<string>; numbers: Set<number> } {
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const names = new Set<string>();
  const numbers = new Set<number>();
  for (const container of all) {
    for (const port of container.ports ?? []) {
      if (port.name) names.add(port.name);
      numbers.add(port.containerPort);
    }
  }
  return { names, numbers };
}

/** The first port from `preferred` up that no container uses and that is not reserved. */
export function freePort(used: ReadonlySet<number>, preferred: number, reserved: readonly number[]): number {
  let port = preferred;
  while (used.has(port) || reserved.includes(port)) port += 1;
  return port;
}

function rewriteProbe(probe: V1Probe | undefined, from: string, to: string): V1Probe | undefined {
  if (!probe) return probe;
  const next: V1Probe = { ...probe };
  if (probe.httpGet?.port === from) next.httpGet = { ...probe.httpGet, port: to };
  if (probe.tcpSocket?.port === from) next.tcpSocket = { ...probe.tcpSocket, port: to };
  return next;
}

/**
 * The app container with its port `from` renamed `to`, and every probe or lifecycle hook of it that
 * named `from` pointed at `to`, so the kubelet keeps probing the app itself, not the cache.
 * (gRPC probes take port numbers only; numbered probes already reach the app and stay as they are.)
 */
export function renameAppPort(container: V1Container, from: string, to: string): V1Container {
  const next: V1Container = {
    ...container,
    ports: (container.ports ?? []).map((port) => (port.name === from ? { ...port, name: to } : port)),
  };
  for (const key of ["livenessProbe", "readinessProbe", "startupProbe"] as const) {
    if (container[key]) next[key] = rewriteProbe(container[key], from, to) as V1Probe;
  }
  if (container.lifecycle) {
    const lifecycle = { ...container.lifecycle };
    for (const hook of ["postStart", "preStop"] as const) {
      const handler = lifecycle[hook];
      if (handler) lifecycle[hook] = rewriteProbe(handler as V1Probe, from, to) as typeof handler;
    }
    next.lifecycle = lifecycle;
  }
  return next;
}
