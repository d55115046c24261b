import { ApiException, type V1Secret } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it, vi } from "vitest";
import { FakeClock } from "../clock.js";
import { ReleaseOwner } from "../kube/release-owner.js";
import { SelfManagedCerts } from "./self-managed-certs.js";

const NAMESPACE = "apicache-system";
const SECRET = "apicache-webhook-tls";
const notFound = () => new ApiException(404, "not found", "", {});

type CallOptions = { middleware?: { pre: (context: { setSignal(signal: AbortSignal): void }) => unknown }[] };

/** The signal a typed client call was given (kube/abort.ts `aborting`), as the HTTP layer would get it. */
function signalOf(options: CallOptions | undefined): AbortSignal | undefined {
  let signal: AbortSignal | undefined;
  for (const middleware of options?.middleware ?? []) middleware.pre({ setSignal: (s) => (signal = s) });
  return signal;
}

/** Never settles by itself: a request held up by a partition that ignores aborts. */
const hung = <T>() => new Promise<T>(() => undefined);

/** One Secret as the API server keeps it (a PUT of a missing one is a 404), and its informer's events. */
class FakeSecrets {
  secret: V1Secret | undefined;
  creates = 0;
  /** The signal each request carried, in order (undefined: none). */
  readonly signals: (AbortSignal | undefined)[] = [];
  /** Set: reads wait for it before they answer (a partition); the read's signal is not honoured. */
  readsWaitFor: Promise<void> | undefined;
  private version = 0;
  private readonly handlers: Record<string, ((secret: V1Secret) => void)[]> = {};

  readonly core = {
    readNamespacedSecret: async (_: unknown, options?: CallOptions) => {
      this.signals.push(signalOf(options));
      await this.readsWaitFor;
      if (!this.secret) throw notFound();
      return structuredClone(this.secret);
    },
    createNamespacedSecret: async ({ body }: { body: V1Secret }, options?: CallOptions) => {
      this.signals.push(signalOf(options));
      this.creates += 1;
      return this.store(body);
    },
    replaceNamespacedSecret: async ({ body }: { body: V1Secret }, options?: CallOptions) => {
      this.signals.push(signalOf(options));
      if (!this.secret) throw notFound();
      return this.store(body);
    },
  };

  readonly informer = {
    on: (event: string, handler: (secret: V1Secret) => void) => {
      this.handlers[event] = [...(this.handlers[event] ?? []), handler];
    },
    get: () => this.secret,
  };

  /** The garbage collector deleting it with its owner. */
  collect(): void {
    const gone = this.secret;
    this.secret = undefined;
    if (gone) for (const handler of this.handlers.delete ?? []) handler(gone);
  }

  owners(): (string | undefined)[] | undefined {
    return this.secret?.metadata?.ownerReferences?.map((ref) => ref.uid);
  }

  private store(body: V1Secret): V1Secret {
    this.secret = { ...body, metadata: { ...body.metadata, resourceVersion: String(++this.version) } };
    return this.secret;
  }
}

function setup({ configurationExists = true } = {}) {
  const clock = new FakeClock(Date.now());
  const secrets = new FakeSecrets();
  const configuration: { uid: string | undefined } = { uid: configurationExists ? "uid-a" : undefined };
  const log = pino({ level: "silent" });
  const owner = new ReleaseOwner({
    name: "apicache",
    read: async () => {
      if (configuration.uid === undefined) throw notFound();
      return { metadata: { uid: configuration.uid } };
    },
    clock,
    log,
  });
  const published: string[] = [];
  const terms: AbortSignal[] = [];
  let publish = async (bundle: string) => {
    published.push(bundle);
  };
  const certs = new SelfManagedCerts(
    {
      core: secrets.core as never,
      namespace: NAMESPACE,
      secretName: SECRET,
      names: ["apicache-webhook.apicache-system.svc"],
      certValidityMs: 3_600_000,
      caValidityMs: 7_200_000,
      clock,
      log,
      publishCaBundle: (bundle, term) => {
        terms.push(term);
        return publish(bundle);
      },
      owner,
    },
    secrets.informer as never,
  );
  /** The caBundle apply hangs (and ignores its abort): a partition between the leader and the API server. */
  const hangPublish = () => {
    publish = async (bundle) => {
      published.push(bundle);
      await hung();
    };
  };
  return { clock, secrets, configuration, owner, certs, published, terms, hangPublish };
}

// Each test issues real RSA keys, which takes seconds on a loaded machine.
describe("self-managed webhook certificates", { timeout: 60_000 }, () => {
  it("create the Secret owned by the configuration looked up fresh", async () => {
    const { secrets, certs } = setup();
    await certs.lead();
    expect(secrets.owners()).toEqual(["uid-a"]);
    await certs.stop();
  });

  it("are not created again once the configuration is gone, and come back with the new one", async () => {
    const { clock, secrets, configuration, owner, certs } = setup();
    await certs.lead();
    await owner.lookup();
    configuration.uid = undefined;
    secrets.collect();
    await vi.waitFor(() => expect(owner.cached()?.kind).toBe("gone"), { timeout: 20_000, interval: 5 });
    // The round the deletion started has been refused; one more, awaited, is refused too.
    await certs.stop().then(() => certs.lead());
    expect(secrets.secret).toBeUndefined();
    expect(secrets.creates).toBe(1);

    configuration.uid = "uid-b";
    clock.advance(5_000);
    await vi.waitFor(() => expect(secrets.owners()).toEqual(["uid-b"]), { timeout: 20_000, interval: 5 });
    await certs.stop();
  });

  it("name the configuration on a Secret written before it existed, once it appears", async () => {
    const { secrets, configuration, owner, certs } = setup({ configurationExists: false });
    await certs.lead();
    expect(secrets.secret).toBeDefined();
    expect(secrets.owners()).toBeUndefined();
    configuration.uid = "uid-a";
    await owner.lookup(); // what the elector's next renewal does
    await vi.waitFor(() => expect(secrets.owners()).toEqual(["uid-a"]), { timeout: 20_000, interval: 5 });
    expect(secrets.creates).toBe(1);
    await certs.stop();
  });

  describe("when the term of leadership ends", () => {
    /** stop() resolves within a second (a hung request would hold it for the client's ~300 s timeout). */
    const stopsPromptly = async (certs: { stop(): Promise<void> }) => {
      let stopped = false;
      void certs.stop().then(() => (stopped = true));
      await vi.waitFor(() => expect(stopped).toBe(true), { timeout: 1_000, interval: 5 });
    };

    it("gives every request of a round the term's signal, and aborts it on stop()", async () => {
      const { secrets, certs, terms } = setup();
      await certs.lead();
      expect(secrets.signals.length).toBeGreaterThanOrEqual(3); // read, create, read back
      const term = secrets.signals[0];
      expect(term?.aborted).toBe(false);
      expect([...secrets.signals, ...terms].every((signal) => signal === term)).toBe(true);
      await certs.stop();
      expect(term?.aborted).toBe(true);
    });

    it("stop() returns at once while the caBundle apply hangs, and the Secret is never written", async () => {
      const { secrets, certs, published, terms, hangPublish } = setup();
      hangPublish();
      const leading = certs.lead();
      await vi.waitFor(() => expect(published).toHaveLength(1), { timeout: 20_000, interval: 5 });
      await stopsPromptly(certs);
      await leading;
      expect(terms[0]?.aborted).toBe(true);
      expect(secrets.secret).toBeUndefined();
    });

    it("stop() returns at once while a Secret read hangs, and nothing is published after it", async () => {
      const { secrets, certs, published, clock } = setup();
      await certs.lead();
      expect(published).toHaveLength(1);
      secrets.readsWaitFor = hung();
      clock.advance(3_600_000); // the next scheduled round: its read hangs
      await vi.waitFor(() => expect(secrets.signals.at(-1)?.aborted).toBe(false), {
        timeout: 1_000,
        interval: 5,
      });
      const reads = secrets.signals.length;
      await stopsPromptly(certs);
      expect(secrets.signals.at(-1)?.aborted).toBe(true);
      expect(secrets.signals).toHaveLength(reads);
      expect(published).toHaveLength(1);
    });

    it.each([
      ["the Secret as it was (keep)", () => undefined],
      ["that the Secret is gone (a new CA)", (secrets: FakeSecrets) => secrets.collect()],
    ])("writes nothing when a read held up across stop() answers %s after it", async (_, meanwhile) => {
      const { secrets, certs, published } = setup();
      await certs.lead();
      await certs.stop();
      let heal: () => void = () => undefined;
      secrets.readsWaitFor = new Promise((resolve) => (heal = resolve));
      const reads = secrets.signals.length;
      const leading = certs.lead();
      await vi.waitFor(() => expect(secrets.signals).toHaveLength(reads + 1), {
        timeout: 1_000,
        interval: 5,
      });
      const stopped = certs.stop();
      meanwhile(secrets);
      const before = secrets.secret;
      heal();
      await Promise.all([leading, stopped]);
      expect(published).toHaveLength(1); // the first term's; the second's round ended at its read
      expect(secrets.signals).toHaveLength(reads + 1);
      expect(secrets.secret).toBe(before);
    });

    it("publishes no caBundle when a read held up across stop() answers after it", async () => {
      let answer: (error: unknown) => void = () => undefined;
      let reads = 0;
      const core = {
        readNamespacedSecret: () => {
          reads += 1;
          if (reads === 1) return new Promise<V1Secret>((_, reject) => (answer = reject));
          return Promise.reject(notFound());
        },
        createNamespacedSecret: async ({ body }: { body: V1Secret }) => body,
        replaceNamespacedSecret: async ({ body }: { body: V1Secret }) => body,
      };
      const published: string[] = [];
      const certs = new SelfManagedCerts(
        {
          core: core as never,
          namespace: NAMESPACE,
          secretName: SECRET,
          names: ["apicache-operator-webhook.apicache-system.svc"],
          certValidityMs: 90 * 24 * 3600_000,
          caValidityMs: 10 * 365 * 24 * 3600_000,
          clock: new FakeClock(Date.now()),
          log: pino({ level: "silent" }),
          publishCaBundle: async (bundle) => {
            published.push(bundle);
          },
        },
        { on: () => undefined, get: () => undefined } as never,
      );
      const leading = certs.lead(); // the read hangs (frozen / partitioned leader)
      await vi.waitFor(() => expect(reads).toBe(1), { timeout: 1_000, interval: 5 });
      const stopped = certs.stop(); // leadership lost: unlead()
      // The partition heals: the read answers "missing" (deleted meanwhile). Before, the old leader
      // then issued a new CA and published a bundle holding only it, over the new leader's.
      answer(notFound());
      await Promise.all([leading, stopped]);
      expect(published).toEqual([]);
    });
  });
});
