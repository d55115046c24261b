import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Prometheus } from "../../../monitoring/test/prometheus.js";

/**
 * The shipped alert rules, evaluated by a real Prometheus during the fault suite. The shipped file's
 * range windows are minutes long (`rate(…[5m])`, `[15m]`): a few seconds of errors in a 5-minute
 * window would neither cross the ratio thresholds reliably nor leave the window before the next
 * fault, so one fault's alert would still be active during the next. The suite therefore loads the
 * shipped file with ONE documented transformation (ADR 0021): every range window in an `expr` becomes
 * `window` (seconds). Thresholds, label sets, `for:` durations and everything else are the shipped
 * text, byte for byte. `for:` is not waited: the suite asserts the alert reaches `pending` (its
 * expression holds), which is what `for:` then times.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const SHIPPED_RULES = join(ROOT, "monitoring", "generated", "apicache-rules.yaml");

const RANGE = /\[(\d+)(ms|s|m|h)\]/g;

/** The shipped rules text with every range window of an `expr:` line replaced by `window`. */
export function shortenWindows(rules: string, window: string): string {
  return rules
    .split("\n")
    .map((line) => (/^\s*expr:/.test(line) ? line.replace(RANGE, `[${window}]`) : line))
    .join("\n");
}

export function shippedRules(): string {
  return readFileSync(SHIPPED_RULES, "utf8");
}

/** The alert names the shipped file defines. */
export function shippedAlertNames(rules = shippedRules()): string[] {
  return [...rules.matchAll(/^\s*- alert: (\S+)$/gm)].map((m) => m[1] as string);
}

export interface AlertSample {
  readonly at: number;
  /** Alert names pending or firing at `at`. */
  readonly active: ReadonlySet<string>;
}

/**
 * Samples Prometheus's active alerts every `everyMs` in the background (a recorder, not a wait): which
 * alerts a fault brought up is read from the samples afterwards.
 */
export interface AlertRecorder {
  readonly samples: readonly AlertSample[];
  /** Alerts active in some sample taken in [from, to] and not active in the last sample before `from`. */
  raisedBetween(from: number, to: number): string[];
  /** Whether `name` was active in the newest sample. */
  activeNow(name: string): boolean;
  stop(): Promise<void>;
}

export function recordAlerts(prometheus: Prometheus, everyMs = 250): AlertRecorder {
  const samples: AlertSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const alerts = await prometheus.alerts().catch(() => undefined);
      if (alerts)
        samples.push({ at: Date.now(), active: new Set(alerts.map((a) => a.labels.alertname ?? "")) });
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    samples,
    raisedBetween(from, to) {
      const before = [...samples].reverse().find((s) => s.at < from)?.active ?? new Set<string>();
      const raised = new Set<string>();
      for (const s of samples) {
        if (s.at < from || s.at > to) continue;
        for (const name of s.active) if (!before.has(name)) raised.add(name);
      }
      return [...raised].sort();
    },
    activeNow: (name) => samples.at(-1)?.active.has(name) ?? false,
    async stop() {
      running = false;
      await loop;
    },
  };
}
