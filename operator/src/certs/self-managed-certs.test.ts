import { ApiException, type V1Secret } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it, vi } from "vitest";
import { FakeClock } from "../clock.js";
import { ReleaseOwner } from "../kube/release-owner.js";
import { SelfManagedCerts } from "./self-managed-certs.js";

const NAMESPACE = "apicache-system";
const SECRET = "apicache-webhook-tls";
const notFound = () => new ApiException(404, "not found", "", {});

/** One Secret as the API server keeps it (a PUT of a missing one is a 404), and its informer's events. */
class FakeSecrets {
  secret: V1Secret | undefined;
  creates = 0;
  private version = 0;
  private readonly handlers: Record<string, ((secret: V1Secret) => void)[]> = {};

  readonly core = {
    readNamespacedSecret: async () => {
      if (!this.secret) throw notFound();
      return structuredClone(this.secret);
    },
    createNamespacedSecret: async ({ body }: { body: V1Secret }) => {
      this.creates += 1;
      return this.store(body);
    },
    replaceNamespacedSecret: async ({ body }: { body: V1Secret }) => {
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
      publishCaBundle: (bundle) => publish(bundle),
      owner,
    },
    secrets.informer as never,
  );
  const holdPublish = (gate: Promise<void>) => {
    publish = async (bundle) => {
      published.push(bundle);
      await gate;
    };
  };
  return { clock, secrets, configuration, owner, certs, published, holdPublish };
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

  it("stop() waits for upkeep in flight, which writes nothing after it", async () => {
    const { secrets, certs, published, holdPublish } = setup();
    let release: () => void = () => undefined;
    holdPublish(new Promise<void>((resolve) => (release = resolve)));
    const leading = certs.lead();
    await vi.waitFor(() => expect(published).toHaveLength(1), { timeout: 20_000, interval: 5 });
    let stopped = false;
    const stopping = certs.stop().then(() => (stopped = true));
    await Promise.resolve();
    expect(stopped).toBe(false);
    release();
    await Promise.all([leading, stopping]);
    expect(secrets.secret).toBeUndefined();
  });
});
