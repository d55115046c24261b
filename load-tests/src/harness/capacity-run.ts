import type { Scenario } from "../scenario.js";
import { type CapacityTargets, capacitySlo } from "../thresholds.js";
import { equalLoadSeconds } from "./capacity-config.js";
import { type ProbeResult, runProbe } from "./capacity-probe.js";
import { roundRate, type SearchPlan, type SearchResult, searchCapacity } from "./capacity-search.js";
import { createHttpClient, type HttpClient } from "./http-client.js";
import { describeMachine } from "./machine.js";
import { prime } from "./run-scenario.js";
import { type DemoApiProcess, startDemoApiProcess, startRedis, startSidecarProcess } from "./stack.js";

/**
 * `make bench-capacity` for one scenario: one demo API; the capacity search directly against it; the
 * equal-load run directly; then a fresh sidecar (and redis-server) in front of it, its cache primed once,
 * the equal-load run through it, and the capacity search through it, whose ladder starts at the direct
 * path's capacity (so its first probe is the sidecar at the direct path's capacity).
 */
export interface CapacityRunOptions {
  readonly scenario: Scenario;
  readonly size: string;
  readonly store: "redis" | "memory";
  readonly policyFile: string;
  readonly targets: CapacityTargets;
  readonly maxFailed: number;
  readonly windowSeconds: number;
  readonly warmupSeconds: number;
  readonly equalWindowSeconds: number;
  readonly maxRate: number;
  readonly progress: (line: string, final?: boolean) => void;
}

export interface CapacityRun {
  readonly scenario: Scenario;
  readonly sloMs: number;
  readonly windowSeconds: number;
  readonly warmupSeconds: number;
  readonly direct: SearchResult<ProbeResult>;
  readonly sidecar: SearchResult<ProbeResult>;
  readonly equalLoad: { readonly rate: number; readonly direct: ProbeResult; readonly sidecar: ProbeResult };
  readonly primedKeys: number;
  readonly machine: string;
  readonly sidecarCommand: string;
  readonly seconds: number;
}

export async function runCapacity(options: CapacityRunOptions): Promise<CapacityRun> {
  const started = performance.now();
  const machine = describeMachine();
  const sloMs = capacitySlo(options.targets, options.scenario.name);
  options.progress(`starting the demo API (size ${options.size})`);
  const api = await startDemoApiProcess({ size: options.size });
  try {
    const probeWith =
      (client: HttpClient, label: string, pids: Record<string, number | undefined>) =>
      (rate: number, equalLoad = false) =>
        runProbe({
          ...common(options, api, sloMs),
          client,
          rate,
          // The equal-load runs measure a whole, longer window; the search's probes may stop early.
          windowSeconds: equalLoad
            ? equalLoadSeconds(options.equalWindowSeconds, rate)
            : options.windowSeconds,
          stopEarly: !equalLoad,
          pids,
          label,
        });
    const directClient = createHttpClient(api.url);
    const directProbe = probeWith(directClient, "direct", { api: api.pid });
    const plan = searchPlan(options, options.targets.start, options.targets.factor);
    const direct = await searchCapacity(plan, (rate) => directProbe(rate));
    const equalRate = roundRate(Math.max(direct.capacity, plan.minRate) * options.targets.equalLoadFraction);
    options.progress(`equal load: ${equalRate} requests/s directly`, true);
    const equalDirect = await directProbe(equalRate, true);
    directClient.close();

    const redis = options.store === "redis" ? await startRedis() : undefined;
    const sidecar = await startSidecarProcess({
      policyFile: options.policyFile,
      upstream: api.url,
      ...(redis ? { redisUrl: redis.url } : {}),
    });
    const client = createHttpClient(sidecar.url);
    try {
      const primedKeys = options.scenario.primeCache
        ? (await prime(client, options.scenario, options.progress, "sidecar")).length
        : 0;
      const sidecarProbe = probeWith(client, "sidecar", { sidecar: sidecar.pid, api: api.pid });
      options.progress(`equal load: ${equalRate} requests/s through the sidecar`, true);
      const equalSidecar = await sidecarProbe(equalRate, true);
      const start = Math.max(direct.capacity, plan.minRate);
      const through = await searchCapacity(
        searchPlan(options, start, options.targets.sidecarFactor),
        (rate) => sidecarProbe(rate),
      );
      return {
        scenario: options.scenario,
        sloMs,
        windowSeconds: options.windowSeconds,
        warmupSeconds: options.warmupSeconds,
        direct,
        sidecar: through,
        equalLoad: { rate: equalRate, direct: equalDirect, sidecar: equalSidecar },
        primedKeys,
        machine,
        sidecarCommand: sidecar.command,
        seconds: (performance.now() - started) / 1000,
      };
    } finally {
      client.close();
      await sidecar.stop();
      await redis?.stop();
    }
  } finally {
    await api.stop();
  }
}

function common(options: CapacityRunOptions, api: DemoApiProcess, sloMs: number) {
  return {
    scenario: options.scenario,
    warmupSeconds: options.warmupSeconds,
    sloMs,
    maxFailed: options.maxFailed,
    apiUrl: api.url,
    progress: options.progress,
  };
}

function searchPlan(options: CapacityRunOptions, start: number, factor: number): SearchPlan {
  return {
    start: roundRate(start),
    factor,
    maxRate: options.maxRate,
    resolution: options.targets.resolutionPercent / 100,
    minRate: 0.1,
  };
}
