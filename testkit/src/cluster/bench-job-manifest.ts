import { parseAllDocuments, stringify } from "yaml";

/**
 * load-tests/cluster/bench-job.yaml (the demo-api-direct Service and the apicache-bench Job), with the
 * harness's arguments replaced when a caller runs another version of it (the cluster tier's short run).
 * Pure: text in, text out.
 */
export const benchJobName = "apicache-bench";
export const benchJobContainer = "harness";

interface JobDocument {
  kind?: string;
  spec?: { template?: { spec?: { containers?: { name?: string; args?: string[] }[] } } };
}

export function benchJobManifest(text: string, args?: readonly string[]): string {
  const documents = parseAllDocuments(text).map((document) => {
    if (document.errors.length > 0) throw new Error(`bench-job.yaml: ${document.errors[0]?.message}`);
    return document.toJS() as JobDocument;
  });
  const job = documents.find((d) => d.kind === "Job");
  const container = job?.spec?.template?.spec?.containers?.find((c) => c.name === benchJobContainer);
  if (container === undefined)
    throw new Error(`bench-job.yaml has no Job with a container "${benchJobContainer}"`);
  if (args !== undefined) container.args = [...args];
  return documents.map((d) => stringify(d)).join("---\n");
}

/** The harness arguments the manifest gives its Job. */
export function benchJobArgs(text: string): string[] {
  const job = parseAllDocuments(text)
    .map((document) => document.toJS() as JobDocument)
    .find((d) => d.kind === "Job");
  return job?.spec?.template?.spec?.containers?.find((c) => c.name === benchJobContainer)?.args ?? [];
}

/** args with each flag's value replaced (`--rate 5` → `--rate 8`), or the flag and value appended. */
export function withFlags(args: readonly string[], flags: Readonly<Record<string, string>>): string[] {
  const out = [...args];
  for (const [flag, value] of Object.entries(flags)) {
    const at = out.indexOf(flag);
    if (at >= 0 && at + 1 < out.length) out[at + 1] = value;
    else out.push(flag, value);
  }
  return out;
}
