import { ApicacheError, CRDS_ERROR_CODES } from "./errors.js";

/** One thing wrong with a CachePolicy: where (a Kubernetes-style field path) and what. */
export interface Problem {
  /** e.g. `spec.routes[1].ttl`; empty for the document itself. */
  readonly path: string;
  readonly message: string;
}

export const INVALID_POLICY_CODE = CRDS_ERROR_CODES.INVALID_POLICY;

/**
 * Thrown by the `*OrThrow` helpers (and by the sidecar for a starting policy it cannot run): carries
 * every problem, never just the first, in `details.problems`, with the document in `details.source`.
 */
export class InvalidPolicyError extends ApicacheError<typeof INVALID_POLICY_CODE> {
  constructor(problems: readonly Problem[], source = "CachePolicy") {
    super(INVALID_POLICY_CODE, `${source} is invalid: ${formatProblems(problems)}`, {
      details: { source, problems },
    });
    this.name = "InvalidPolicyError";
  }

  get problems(): readonly Problem[] {
    return this.details?.problems as readonly Problem[];
  }

  get source(): string {
    return this.details?.source as string;
  }
}

export function formatProblems(problems: readonly Problem[]): string {
  return problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join("; ");
}

/** `/spec/routes/0/name` (JSON pointer) -> `spec.routes[0].name`. */
export function pointerToPath(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
    .reduce((path, part) => {
      if (/^[0-9]+$/.test(part)) return `${path}[${part}]`;
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) return path ? `${path}.${part}` : part;
      return `${path}[${part}]`;
    }, "");
}

/** Appends a child to a field path: a property name, an index, or a relative `.a.b` JSONPath. */
export function childPath(path: string, child: string | number): string {
  if (typeof child === "number") return `${path}[${child}]`;
  if (child === "") return path;
  if (child.startsWith(".")) return `${path}${child}`;
  return path ? `${path}.${child}` : child;
}
