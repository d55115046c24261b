import { type SIDECAR_FLAGS, type SidecarFlagName, sidecarFlag } from "./sidecar-flags.js";

type FlagNamed<N extends SidecarFlagName> = Extract<(typeof SIDECAR_FLAGS)[number], { name: N }>;

/**
 * Values for the sidecar's flags, by flag name: a string for a flag that takes a value, true for a
 * switch that is on. A name the sidecar does not know does not type-check.
 */
export type SidecarArgValues = {
  readonly [N in SidecarFlagName]?: FlagNamed<N>["kind"] extends "boolean" ? boolean : string;
};

/**
 * The sidecar's command line for `values`, in the order given: `--name value` for a string, `--name`
 * for a switch that is on, nothing for one that is off or a value left undefined. Throws on a name the
 * sidecar does not know or a value of the wrong kind (a caller that got past the type), so an injected
 * pod never carries a flag the sidecar would refuse. Pure.
 */
export function sidecarArgs(values: SidecarArgValues): string[] {
  const args: string[] = [];
  for (const [name, value] of Object.entries(values) as [string, unknown][]) {
    const flag = sidecarFlag(name);
    if (!flag) throw new Error(`the sidecar has no flag --${name} (crds/src/sidecar-flags.ts)`);
    if (value === undefined || value === false) continue;
    if (flag.kind === "boolean" ? value !== true : typeof value !== "string") {
      throw new Error(`--${name} takes ${flag.kind === "boolean" ? "true or false" : "a string"}`);
    }
    args.push(`--${name}`, ...(flag.kind === "string" ? [value as string] : []));
  }
  return args;
}
