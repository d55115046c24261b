import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { isSizeName, SIZE_NAMES, type SizeName } from "./sizes.js";

/** The demo API's configuration: flags and environment, parsed once, every problem listed. */
export interface DemoApiConfig {
  readonly host: string;
  readonly port: number;
  readonly size: SizeName;
  readonly databaseUrl?: string;
  readonly cacheDir: string;
  readonly logLevel: string;
  /** Create (or check) the dataset snapshot, then exit without serving. */
  readonly prepareOnly: boolean;
}

export type DemoApiConfigResult =
  | { readonly ok: true; readonly config: Readonly<DemoApiConfig> }
  | { readonly ok: false; readonly problems: readonly string[]; readonly help?: boolean };

export const DEMO_API_USAGE = `Usage: demo-api [--listen HOST:PORT] [--size ${SIZE_NAMES.join("|")}] [options]

The demo booking API (the upstream of the apicache demo and load tests).

  --listen HOST:PORT     where to listen (default 127.0.0.1:8080; port 0 = any free port)
  --size NAME            dataset size (default "default"; "small" starts fastest)     APICACHE_DEMO_SIZE
  --database-url URL     use this PostgreSQL server instead of embedded PGlite          DATABASE_URL
  --cache-dir DIR        where dataset snapshots are cached                            APICACHE_DEMO_CACHE_DIR
                         (default $XDG_CACHE_HOME/apicache or ~/.cache/apicache)
  --log-level LEVEL      pino level (default info)                                     APICACHE_LOG_LEVEL
  --prepare-only         create the dataset snapshot if missing, then exit
  -h, --help             show this help
`;

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export function parseDemoApiConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): DemoApiConfigResult {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        listen: { type: "string" },
        size: { type: "string" },
        "database-url": { type: "string" },
        "cache-dir": { type: "string" },
        "log-level": { type: "string" },
        "prepare-only": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (error) {
    return { ok: false, problems: [(error as Error).message] };
  }
  if (values.help) return { ok: false, problems: [], help: true };
  const problems: string[] = [];
  const flag = (name: string, envName?: string): string | undefined => {
    const value = values[name];
    if (typeof value === "string") return value;
    return envName && env[envName] ? env[envName] : undefined;
  };
  const listen = flag("listen") ?? "127.0.0.1:8080";
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(listen);
  if (!match || Number(match[3]) > 65535)
    problems.push(`--listen must be HOST:PORT (got ${JSON.stringify(listen)})`);
  const size = flag("size", "APICACHE_DEMO_SIZE") ?? "default";
  if (!isSizeName(size))
    problems.push(`--size must be one of ${SIZE_NAMES.join(", ")} (got ${JSON.stringify(size)})`);
  const databaseUrl = flag("database-url", "DATABASE_URL");
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl))
    problems.push("--database-url must start with postgres:// or postgresql://");
  const logLevel = flag("log-level", "APICACHE_LOG_LEVEL") ?? "info";
  if (!LEVELS.includes(logLevel)) problems.push(`--log-level must be one of ${LEVELS.join(", ")}`);
  const cacheDir = flag("cache-dir", "APICACHE_DEMO_CACHE_DIR") ?? defaultCacheDir(env);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    config: Object.freeze({
      host: (match?.[1] ?? match?.[2]) as string,
      port: Number(match?.[3]),
      size: size as SizeName,
      ...(databaseUrl ? { databaseUrl } : {}),
      cacheDir,
      logLevel,
      prepareOnly: values["prepare-only"] === true,
    }),
  };
}

/** `$XDG_CACHE_HOME/apicache`, else `~/.cache/apicache`: per user, outside the repository. */
export function defaultCacheDir(env: Readonly<Record<string, string | undefined>>): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache"), "apicache");
}
