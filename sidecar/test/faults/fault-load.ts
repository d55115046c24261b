import { setTimeout as delay } from "node:timers/promises";
import { Agent, request } from "undici";
import type { FaultUpstream, ItemBody } from "./fault-upstream.js";

/**
 * The fault suite's steady load: `clients` closed loops, each a user (`x-user: u<n>`), reading and
 * writing public items (`/public/items/:id`, one entry for everyone) and the user's own items
 * (`/me/items/:id`, a PerUser route keyed on `x-user`). Every answer is recorded with when it was sent
 * and when it came back, and judged by content when the fault's window is summarised:
 *   - wrong: a 2xx body that is not the whole item asked for (unparseable, another id or kind);
 *   - cross-user: a /me body made for another user than the requester;
 *   - stale: a read sent after a write's response came back, showing an older version than that write;
 *   - error: a non-2xx answer or a failed request, attributed to the upstream when the upstream
 *     answered that request badly or was at fault while it was in flight, and to the cache otherwise.
 */
export interface LoadOptions {
  /** The proxies to send to (a Service's ready endpoints); read before every request. */
  readonly targets: () => readonly string[];
  readonly clients: number;
  /** Items per route: /public/items/0…, /me/items/0…. */
  readonly items: number;
  /** Which item request `i` names (default: they take turns, `floor(i / 2) % items`). */
  readonly itemOf?: (i: number) => string;
  /** One request in `writeEvery` is a PUT. */
  readonly writeEvery: number;
  /** Each client starts a request at most every `paceMs` (default 0: back to back, a closed loop). */
  readonly paceMs?: number;
}

interface Sent {
  readonly n: number;
  readonly start: number;
  end: number;
  readonly kind: "public" | "me";
  readonly write: boolean;
  readonly id: string;
  readonly user: string;
  readonly target: string;
  /** The newest version of this resource whose write had been answered when this request was sent. */
  readonly floor: number;
  /** The write that set `floor`. */
  readonly floorWrite: string | undefined;
  status?: number;
  cacheStatus?: string;
  error?: string;
  body?: ItemBody;
  /** Why the body was not the item asked for. */
  wrong?: string;
}

export interface WindowSummary {
  readonly requests: number;
  readonly hits: number;
  /** Errors the upstream did not cause, described. */
  readonly cacheErrors: readonly string[];
  readonly upstreamErrors: number;
  readonly wrong: readonly string[];
  readonly crossUser: readonly string[];
  readonly stale: readonly string[];
}

export interface FaultLoad {
  /** Every request sent so far. */
  readonly sent: readonly Sent[];
  /** Requests sent in [from, to), judged (to: now when omitted). */
  summarise(from: number, to?: number): WindowSummary;
  /** When the first cache hit was answered whose body the upstream made at or after `since`. */
  firstFreshHit(since: number): number | undefined;
  /** Requests to `target` sent but not answered yet. */
  inFlight(target: string): number;
  /**
   * Drops the answered requests sent before `before` (and the upstream's record of them), for a long
   * run that has already summarised them: `sent` and the judgements after it are unchanged otherwise.
   */
  forget(before: number): void;
  stop(): Promise<void>;
}

const HIT = /;\s*hit(;|$)/;

function describeSent(s: Sent): string {
  const path = `${s.write ? "PUT" : "GET"} /${s.kind}/items/${s.id} as ${s.user} via ${s.target}`;
  return `#${s.n} ${path} at +${s.start}: ${s.error ?? `${s.status} ${s.cacheStatus ?? ""}`}`;
}

/** Whether the body is the item the request asked for (undefined) or what is wrong with it. */
function judgeBody(s: Sent, text: string): string | undefined {
  try {
    const body = JSON.parse(text) as ItemBody;
    s.body = body;
    if (body.kind !== s.kind || body.id !== s.id || typeof body.version !== "number")
      return `another item: ${text.slice(0, 80)}`;
    return undefined;
  } catch {
    return `not a whole item (${text.length} bytes): ${text.slice(0, 60)}…`;
  }
}

const resourceOf = (kind: string, user: string, id: string) => `${kind}|${kind === "me" ? user : ""}|${id}`;

export function startFaultLoad(options: LoadOptions, upstream: FaultUpstream): FaultLoad {
  const agent = new Agent({ connections: options.clients * 2, headersTimeout: 15_000, bodyTimeout: 15_000 });
  const committed = new Map<string, number>();
  /** The answered write that set each resource's floor, described (for a stale read's report). */
  const floorWrites = new Map<string, string>();
  const sent: Sent[] = [];
  let n = 0;
  let running = true;

  /** Request `i` of client `client`: which route, item and target, read or write. */
  const plan = (i: number, client: number): Sent => {
    const targets = options.targets();
    const kind = i % 2 === 0 ? "public" : "me";
    const user = `u${client}`;
    const id = options.itemOf?.(i) ?? String(Math.floor(i / 2) % options.items);
    return {
      n: i,
      start: Date.now(),
      end: 0,
      kind,
      write: i % options.writeEvery === options.writeEvery - 1,
      id,
      user,
      target: targets[i % targets.length] ?? "",
      floor: committed.get(resourceOf(kind, user, id)) ?? 0,
      floorWrite: floorWrites.get(resourceOf(kind, user, id)),
    };
  };

  const one = async (client: number): Promise<void> => {
    const s = plan(n++, client);
    sent.push(s);
    const headers: Record<string, string> = { "x-fault-req": String(s.n), host: "api.faults.test" };
    // A public read carries no identity: an identifying request bypasses Public entries.
    if (s.kind === "me") headers["x-user"] = s.user;
    try {
      const response = await request(`${s.target}/${s.kind}/items/${s.id}`, {
        method: s.write ? "PUT" : "GET",
        headers,
        dispatcher: agent,
        ...(s.write ? { body: "{}" } : {}),
      });
      const text = await response.body.text();
      s.status = response.statusCode;
      s.cacheStatus = String(response.headers["cache-status"] ?? "");
      if (s.status >= 200 && s.status < 300) received(s, text);
    } catch (error) {
      s.error = (error as Error).message;
    }
    s.end = Date.now();
  };

  const received = (s: Sent, text: string) => {
    s.wrong = judgeBody(s, text);
    if (!s.write || !s.body || s.wrong) return;
    const resource = resourceOf(s.kind, s.user, s.id);
    if (s.body.version <= (committed.get(resource) ?? 0)) return;
    committed.set(resource, s.body.version);
    floorWrites.set(resource, `#${s.n} via ${s.target} sent +${s.start} answered +${Date.now()}`);
  };

  const worker = async (client: number): Promise<void> => {
    const pace = options.paceMs ?? 0;
    while (running) {
      const started = Date.now();
      await one(client);
      const wait = started + pace - Date.now();
      if (wait > 0 && running) await delay(wait);
    }
  };
  const workers = Array.from({ length: options.clients }, (_, client) => worker(client));

  const upstreamAtFault = (s: Sent): boolean => {
    const answer = upstream.answered.get(String(s.n));
    if (answer !== undefined && answer !== 200 && answer !== 404) return true;
    const end = s.end || Date.now();
    return upstream.faults.some((f) => f.from <= end && (f.to ?? Date.now()) >= s.start);
  };

  return {
    sent,
    summarise(from, to = Date.now()) {
      const window = sent.filter((s) => s.start >= from && s.start < to && s.end > 0);
      const failed = window.filter(
        (s) => s.error !== undefined || (s.status ?? 0) < 200 || (s.status ?? 0) > 299,
      );
      const ok = window.filter((s) => !failed.includes(s));
      return {
        requests: window.length,
        hits: ok.filter((s) => HIT.test(s.cacheStatus ?? "") && !/detail=/.test(s.cacheStatus ?? "")).length,
        cacheErrors: failed.filter((s) => !upstreamAtFault(s)).map(describeSent),
        upstreamErrors: failed.filter(upstreamAtFault).length,
        wrong: ok.filter((s) => s.wrong !== undefined).map((s) => `${describeSent(s)}: ${s.wrong}`),
        crossUser: ok
          .filter((s) => s.kind === "me" && s.body && s.body.user !== s.user)
          .map((s) => `${describeSent(s)}: made for ${s.body?.user}`),
        stale: ok
          .filter((s) => !s.write && s.body && !s.wrong && s.body.version < s.floor)
          .map(
            (s) =>
              `${describeSent(s)} answered +${s.end}: version ${s.body?.version} after ${s.floor} was written (${s.floorWrite})`,
          ),
      };
    },
    firstFreshHit(since) {
      const hit = sent.find(
        (s) =>
          s.end > 0 &&
          s.status === 200 &&
          HIT.test(s.cacheStatus ?? "") &&
          !/detail=/.test(s.cacheStatus ?? "") &&
          s.body !== undefined &&
          s.body.madeAt >= since,
      );
      return hit?.end;
    },
    inFlight: (target) => sent.filter((s) => s.target === target && s.end === 0).length,
    forget(before) {
      const kept = sent.filter((s) => s.start >= before || s.end === 0);
      for (const s of sent) if (s.start < before && s.end > 0) upstream.answered.delete(String(s.n));
      sent.length = 0;
      for (const s of kept) sent.push(s);
    },
    async stop() {
      running = false;
      await Promise.all(workers);
      await agent.close();
    },
  };
}
