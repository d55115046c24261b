import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { maxSlot } from "./layout.js";

/**
 * `<dir>/cluster.json`: what a cluster directory was made for — its slot, its Kubernetes release and
 * etcd's ports (the API server points at them, so a restarted etcd must take them again). Checked as
 * it is read: a file that is missing, truncated or hand-edited is reported as such (`down` and
 * `status` carry on without it), never trusted.
 */
export interface ClusterState {
  readonly slot: number;
  /** The API server's release, as its `--version` says (v1.35.4). */
  readonly kubeVersion: string;
  /** Absent in files written before they were recorded. */
  readonly etcdPorts?: { readonly etcdClient: number; readonly etcdPeer: number };
}

export type StateRead =
  | { readonly kind: "missing" }
  | { readonly kind: "invalid"; readonly problem: string }
  | { readonly kind: "valid"; readonly state: ClusterState };

const isPort = (value: unknown): value is number =>
  typeof value === "number" && Number.isInteger(value) && value > 0 && value < 65_536;

/** Parse the file's text (pure); unknown fields (an older file's) are ignored. */
export function parseClusterState(text: string): StateRead {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: "invalid", problem: `not JSON (${(error as Error).message})` };
  }
  if (typeof value !== "object" || value === null) return { kind: "invalid", problem: "not an object" };
  const { slot, kubeVersion, etcdPorts } = value as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof slot !== "number" || !Number.isInteger(slot) || slot < 0 || slot > maxSlot)
    problems.push(`slot ${JSON.stringify(slot)} is not an integer from 0 to ${maxSlot}`);
  if (typeof kubeVersion !== "string" || !/^v1\.\d+\.\d+$/.test(kubeVersion))
    problems.push(`kubeVersion ${JSON.stringify(kubeVersion)} is not a Kubernetes release`);
  const ports = etcdPorts as Record<string, unknown> | undefined;
  if (ports !== undefined && !(isPort(ports?.etcdClient) && isPort(ports?.etcdPeer)))
    problems.push(`etcdPorts ${JSON.stringify(etcdPorts)} are not two ports`);
  if (problems.length > 0) return { kind: "invalid", problem: problems.join("; ") };
  const state: ClusterState = {
    slot: slot as number,
    kubeVersion: kubeVersion as string,
    ...(ports === undefined
      ? {}
      : { etcdPorts: { etcdClient: ports.etcdClient as number, etcdPeer: ports.etcdPeer as number } }),
  };
  return { kind: "valid", state };
}

export const stateFile = (dir: string): string => join(dir, "cluster.json");

export function readClusterState(dir: string): StateRead {
  let text: string;
  try {
    text = readFileSync(stateFile(dir), "utf8");
  } catch {
    return { kind: "missing" };
  }
  return parseClusterState(text);
}

/** Written whole or not at all (a temporary file renamed over it). */
export function writeClusterState(dir: string, state: ClusterState): void {
  const tmp = `${stateFile(dir)}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state)}\n`);
  renameSync(tmp, stateFile(dir));
}
