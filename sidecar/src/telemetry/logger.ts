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
    formatters: { level: (label: string) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
