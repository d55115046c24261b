// Runs helm 3 or helm 4 (from the tools cache, `make tools`) on charts/apicache for the chart tests.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { requireTool } from "@apicache/testkit/kube/tools";
import { parseAllDocuments } from "yaml";

const run = promisify(execFile);

export const CHART_DIR = fileURLToPath(new URL("../apicache/", import.meta.url));
export const HELMS = ["helm3", "helm4"] as const;
export type Helm = (typeof HELMS)[number];

export interface HelmResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function helm(which: Helm, args: readonly string[]): Promise<HelmResult> {
  const bin = requireTool(which);
  try {
    const { stdout, stderr } = await run(bin, [...args], { maxBuffer: 32 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === "number" ? failed.code : -1,
      stdout: failed.stdout ?? "",
      stderr: failed.stderr ?? "",
    };
  }
}

export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
  };
  readonly [key: string]: unknown;
}

/** `--set` arguments from a flat record. */
export function setArgs(values: Readonly<Record<string, string | boolean | number>>): string[] {
  return Object.entries(values).flatMap(([key, value]) => ["--set", `${key}=${String(value)}`]);
}

/** Renders the chart; throws with helm's message when it fails. */
export interface TemplateOptions {
  readonly release?: string;
  readonly namespace?: string;
  /** API versions the (pretend) cluster serves (`--api-versions`), seen by `.Capabilities.APIVersions`. */
  readonly apiVersions?: readonly string[];
}

export async function template(
  which: Helm,
  values: Readonly<Record<string, string | boolean | number>> = {},
  options: TemplateOptions = {},
): Promise<K8sObject[]> {
  const result = await helm(which, [
    "template",
    options.release ?? "apicache",
    CHART_DIR,
    "--namespace",
    options.namespace ?? "apicache-system",
    ...setArgs(values),
    ...(options.apiVersions ?? []).flatMap((version) => ["--api-versions", version]),
  ]);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}
