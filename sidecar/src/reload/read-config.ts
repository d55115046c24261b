import { INVALID_POLICY_CODE, type Problem, parseSidecarConfigText } from "@apicache/crds";
import { ERROR_CODES } from "../errors.js";
import { type CompiledPolicy, compilePolicy } from "../routing/compile-policy.js";

/**
 * A configuration text, read and compiled: at startup and on every reload, the one way in. It is a
 * SidecarConfig of a schema version this sidecar reads (what the operator renders), or a CachePolicy
 * manifest of a CRD version it reads (a `--policy` file, or the ConfigMap of an operator from before
 * SidecarConfig). A version it does not read is `APICACHE_ERR_UNSUPPORTED_CONFIG_VERSION`, anything
 * else wrong `APICACHE_ERR_INVALID_POLICY`. Pure.
 */
export type ReadConfigResult =
  | { readonly ok: true; readonly policy: CompiledPolicy; readonly format: string }
  | {
      readonly ok: false;
      readonly code: typeof INVALID_POLICY_CODE | typeof ERROR_CODES.UNSUPPORTED_CONFIG_VERSION;
      readonly problems: readonly Problem[];
    };

export function readConfig(text: string): ReadConfigResult {
  const parsed = parseSidecarConfigText(text);
  if (!parsed.ok) {
    const code = parsed.unsupported ? ERROR_CODES.UNSUPPORTED_CONFIG_VERSION : INVALID_POLICY_CODE;
    return { ok: false, code, problems: parsed.problems };
  }
  try {
    return { ok: true, policy: compilePolicy(parsed.policy, text), format: parsed.format };
  } catch (error) {
    return {
      ok: false,
      code: INVALID_POLICY_CODE,
      problems: [{ path: "", message: (error as Error).message }],
    };
  }
}
