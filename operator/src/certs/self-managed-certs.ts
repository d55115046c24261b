import { ApiException, type CoreV1Api, type V1OwnerReference, type V1Secret } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Clock, Timer } from "../clock.js";
import { OPERATOR_ERROR_CODES, OperatorError } from "../errors.js";
import { aborting, untilAborted } from "../kube/abort.js";
import type { ResilientInformer } from "../kube/informer.js";
import { InstallationGoneError, type ReleaseOwner } from "../kube/release-owner.js";
import { describeCerts, issueCa, issueServing, type KeyPair, validityOf } from "./issue.js";
import { nextCheckIn, reissueDecision } from "./rotation.js";
import { CertHolder } from "./serving-certs.js";

/**
 * Self-managed webhook TLS. Every replica serves what the Secret holds (watched, so a rotation
 * reaches all replicas in about a second; the server swaps contexts without dropping connections).
 * The leader issues: a CA and a serving certificate, renewed at 2/3 of their lifetimes; on a CA
 * change the caBundle (new + previous CA) is published before the Secret is written.
 *
 * The Secret is owned by the installation (release-owner.ts, ADR 0007): created with the owner looked
 * up fresh and never again once it is gone; an existing Secret gets the current owner. Upkeep runs one
 * round at a time, again at once when the Secret is deleted or the owner comes back.
 *
 * Upkeep is tied to the term of leadership: each lead() gets an AbortController, stop() aborts it.
 * Every request of a round carries the term's signal, every wait ends with it, and the term is checked
 * right before every write (caBundle, Secret): a round held up by a partition writes nothing once the
 * term ended (a stale caBundle would overwrite the new leader's), and stop() returns at once instead
 * of after the client's timeout.
 */
export interface SelfManagedOptions {
  readonly core: CoreV1Api;
  readonly namespace: string;
  readonly secretName: string;
  readonly names: readonly string[];
  readonly certValidityMs: number;
  readonly caValidityMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  /** Publishes the caBundle (SSA of the MutatingWebhookConfiguration); aborts with `term`. */
  readonly publishCaBundle: (caBundlePem: string, term: AbortSignal) => Promise<void>;
  /** The installation's owner object (release-owner.ts): deleting it deletes the Secret. */
  readonly owner?: ReleaseOwner;
}

const KEYS = {
  caCert: "ca.crt",
  caKey: "ca.key",
  bundle: "ca-bundle.crt",
  cert: "tls.crt",
  key: "tls.key",
} as const;

function decode(secret: V1Secret | undefined, key: string): string | undefined {
  const value = secret?.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
}

export class SelfManagedCerts extends CertHolder {
  private timer: Timer | undefined;
  /** The current term of leadership; undefined (or aborted) while not leading. */
  private term: AbortController | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly options: SelfManagedOptions,
    private readonly secrets: ResilientInformer<V1Secret>,
  ) {
    super();
    const load = (secret: V1Secret) => this.load(secret);
    secrets.on("add", load);
    secrets.on("update", load);
    secrets.on("delete", (secret) => {
      if (secret.metadata?.name === options.secretName) this.run();
    });
    options.owner?.onChange((state) => {
      if (state.kind === "found") this.run();
    });
  }

  /** The caBundle currently stored (for the leader's webhook registration). */
  caBundle(): string | undefined {
    return decode(this.secrets.get(this.options.secretName, this.options.namespace), KEYS.bundle);
  }

  /** Leader only: issue/rotate now and on schedule; publish the caBundle. */
  async lead(): Promise<void> {
    this.term?.abort();
    this.term = new AbortController();
    this.run();
    await this.running;
  }

  /** Ends the term: aborts the round in flight (its requests, its waits) and returns once it has ended. */
  async stop(): Promise<void> {
    this.term?.abort();
    this.term = undefined;
    this.timer?.cancel();
    await this.running;
  }

  private get leading(): boolean {
    return this.term !== undefined && !this.term.signal.aborted;
  }

  /** One upkeep round now, or right after the one in flight. */
  private run(): void {
    if (!this.leading) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        if (this.term) await this.ensure(this.term.signal);
      } while (this.again && this.leading);
    })().finally(() => {
      this.running = undefined;
    });
  }

  private load(secret: V1Secret): void {
    if (secret.metadata?.name !== this.options.secretName) return;
    const certPem = decode(secret, KEYS.cert);
    const keyPem = decode(secret, KEYS.key);
    if (!certPem || !keyPem) return;
    this.set({ certPem, keyPem, notAfter: validityOf(certPem).notAfter });
  }

  private async ensure(term: AbortSignal): Promise<void> {
    if (term.aborted) return;
    const { clock, log } = this.options;
    try {
      const secret = await this.read(term);
      const stored = this.storedPairs(secret);
      const now = clock.now();
      const decision = reissueDecision(stored && describeCerts(stored), this.options.names, now);
      if (decision.action !== "keep") {
        log.info({ reason: decision.reason, action: decision.action }, "issuing webhook certificates");
        await this.issue(term, decision.action, stored, secret);
      } else {
        await this.publish(term, decode(secret, KEYS.bundle) ?? stored?.ca.certPem ?? "");
        if (secret) await this.adopt(term, secret);
      }
      const current = this.storedPairs(await this.read(term));
      const delay = current
        ? nextCheckIn(Object.values(describeCerts(current)), clock.now(), { minMs: 1_000, maxMs: 3_600_000 })
        : 5_000;
      this.schedule(delay);
    } catch (error) {
      // The term ended: nothing to retry, nothing to report.
      if (term.aborted) return;
      // Logged by the owner (rate-limited); retried so that upkeep resumes once it is back.
      if (error instanceof InstallationGoneError) {
        this.schedule(5_000);
        return;
      }
      log.error(
        {
          err: new OperatorError(
            OPERATOR_ERROR_CODES.WEBHOOK_CERT,
            `webhook certificate upkeep failed: ${(error as Error).message}`,
            { cause: error },
          ),
        },
        "retrying in 5s",
      );
      this.schedule(5_000);
    }
  }

  private schedule(ms: number): void {
    this.timer?.cancel();
    if (this.leading) this.timer = this.options.clock.setTimeout(() => this.run(), ms);
  }

  private storedPairs(secret: V1Secret | undefined): { ca: KeyPair; serving: KeyPair } | undefined {
    const [caCert, caKey, cert, key] = [KEYS.caCert, KEYS.caKey, KEYS.cert, KEYS.key].map((k) =>
      decode(secret, k),
    );
    if (!caCert || !caKey || !cert || !key) return undefined;
    return { ca: { certPem: caCert, keyPem: caKey }, serving: { certPem: cert, keyPem: key } };
  }

  /** Publishes the caBundle while the term lasts (aborted with it). */
  private async publish(term: AbortSignal, bundle: string): Promise<void> {
    term.throwIfAborted();
    await untilAborted(this.options.publishCaBundle(bundle, term), term);
  }

  private async issue(
    term: AbortSignal,
    action: "new-ca" | "new-serving",
    stored: { ca: KeyPair } | undefined,
    secret: V1Secret | undefined,
  ) {
    const { clock, names, certValidityMs, caValidityMs } = this.options;
    const now = clock.now();
    const ca = action === "new-ca" || !stored ? issueCa(now, caValidityMs) : stored.ca;
    const serving = issueServing(ca, names, now, certValidityMs);
    const previousCa =
      stored && stored.ca.certPem !== ca.certPem && validityOf(stored.ca.certPem).notAfter > now
        ? stored.ca.certPem
        : "";
    const bundle = `${`${ca.certPem.trim()}\n${previousCa.trim()}`.trim()}\n`;
    // The API server must trust the new CA before any replica serves a certificate it signed.
    await this.publish(term, bundle);
    await this.write(term, secret, {
      [KEYS.caCert]: ca.certPem,
      [KEYS.caKey]: ca.keyPem,
      [KEYS.bundle]: bundle,
      [KEYS.cert]: serving.certPem,
      [KEYS.key]: serving.keyPem,
    });
  }

  private async read(term: AbortSignal): Promise<V1Secret | undefined> {
    const { core, secretName: name, namespace } = this.options;
    try {
      return await untilAborted(core.readNamespacedSecret({ name, namespace }, aborting(term)), term);
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  /** Names the current owner on a Secret that names none, or one that is gone. */
  private async adopt(term: AbortSignal, secret: V1Secret): Promise<void> {
    const found = this.options.owner?.forUpdate();
    const owner = found && (await untilAborted(found, term));
    if (!owner || secret.metadata?.ownerReferences?.some((ref) => ref.uid === owner.uid)) return;
    this.options.log.info({ owner: owner.uid }, "naming the installation as the webhook Secret's owner");
    await this.write(term, secret, undefined);
  }

  /** The owner references to write: a create looks the owner up fresh (and is refused once it is gone). */
  private async ownerReferences(existing: V1Secret | undefined): Promise<V1OwnerReference[] | undefined> {
    const kept = existing?.metadata?.ownerReferences;
    if (!this.options.owner) return kept;
    const owner = existing
      ? await this.options.owner.forUpdate()
      : await this.options.owner.forCreate(`Secret ${this.options.namespace}/${this.options.secretName}`);
    if (!owner) return kept;
    const others = (kept ?? []).filter((ref) => !(ref.kind === owner.kind && ref.name === owner.name));
    return [...others, owner];
  }

  /** Replaces (never creates: a PUT of a missing Secret is a 404) or creates the Secret, while the term lasts. */
  private async write(
    term: AbortSignal,
    existing: V1Secret | undefined,
    values: Record<string, string> | undefined,
  ) {
    const { core, namespace, secretName } = this.options;
    const ownerReferences = await untilAborted(this.ownerReferences(existing), term);
    const data = values
      ? Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString("base64")]))
      : existing?.data;
    const body: V1Secret = {
      apiVersion: "v1",
      kind: "Secret",
      type: "kubernetes.io/tls",
      metadata: {
        name: secretName,
        namespace,
        labels: {
          "app.kubernetes.io/part-of": "apicache",
          "app.kubernetes.io/managed-by": "apicache-operator",
        },
        ...(existing?.metadata?.resourceVersion
          ? { resourceVersion: existing.metadata.resourceVersion }
          : {}),
        ...(ownerReferences?.length ? { ownerReferences } : {}),
      },
      ...(data ? { data } : {}),
    };
    term.throwIfAborted();
    const written = existing
      ? core.replaceNamespacedSecret({ name: secretName, namespace, body }, aborting(term))
      : core.createNamespacedSecret({ namespace, body }, aborting(term));
    await untilAborted(written, term);
  }
}
