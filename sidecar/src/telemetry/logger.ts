import { type DestinationStream, type Logger, pino } from "pino";

/**
 * The sidecar's one logger: JSON lines on stdout, structured fields first
 * (`log.info({ policy, route }, "…")`). Library code receives it; nothing else creates one.
 */
export type { Logger } from "pino";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level: LogLevel = "info", destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { component: "apicache-sidecar" },
    serializers: { err: serializeError, error: serializeError },
    formatters: { level: (label: string) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * Errors as pino's standard serializer writes them, minus the arguments of a failed Redis command:
 * ioredis attaches `command: { name, args }` to its errors, and those arguments can be a password
 * (`HELLO 3 AUTH <user> <password>`, `AUTH`) or a cached response (`SET <key> <body>`). The command's
 * name stays (docs/security.md, "No secret in logs").
 */
export function serializeError(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  const serialized = (value instanceof Error ? pino.stdSerializers.err(value) : { ...value }) as Record<
    string,
    unknown
  >;
  const command = serialized.command;
  if (typeof command === "object" && command !== null && "args" in command) {
    const { args: _args, ...rest } = command as Record<string, unknown>;
    serialized.command = rest;
  }
  return serialized;
}
