import { ApiException, type V1OwnerReference } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import { OPERATOR_ERROR_CODES, OperatorError } from "../errors.js";

/**
 * The installation's anchor (ADR 0007): the MutatingWebhookConfiguration the chart owns. What the
 * operator creates for the installation (the webhook's certificate Secret, the leader Lease) names it
 * as owner, so deleting it (`helm uninstall`) lets the garbage collector delete them too. (A
 * namespaced object may have a cluster-scoped owner.)
 *
 * A lookup says one of three things, from what this process has seen:
 * - found: the configuration exists (with this UID);
 * - not created yet: never seen by this process (the e2e harness, where the leader itself creates
 *   it): objects are created without an owner, and the first update after it appears adds it;
 * - gone: seen before, now 404: the installation is being removed, or injection was switched off by
 *   deleting it. Nothing is created again (InstallationGoneError) until it is back with a new UID.
 * Creates always look it up fresh; updates may use the last answer.
 */
export type OwnerState =
  | { readonly kind: "found"; readonly reference: V1OwnerReference }
  | { readonly kind: "not-created" }
  | { readonly kind: "gone"; readonly uid: string };

/** Pure: the state after a lookup that saw `uid` (undefined: 404), given the state before it. */
export function nextOwnerState(
  previous: OwnerState | undefined,
  name: string,
  uid: string | undefined,
): OwnerState {
  if (uid !== undefined) {
    return {
      kind: "found",
      reference: {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "MutatingWebhookConfiguration",
        name,
        uid,
      },
    };
  }
  if (previous === undefined || previous.kind === "not-created") return { kind: "not-created" };
  return { kind: "gone", uid: previous.kind === "found" ? previous.reference.uid : previous.uid };
}

/** A create (or the configuration's re-creation) refused because the installation's anchor is gone. */
export class InstallationGoneError extends OperatorError {
  constructor(
    readonly configuration: string,
    readonly uid: string,
    readonly object: string,
  ) {
    super(
      OPERATOR_ERROR_CODES.INSTALLATION_GONE,
      `MutatingWebhookConfiguration ${configuration} (uid ${uid}) was deleted: the installation is being ` +
        `removed, or sidecar injection was switched off. Not creating ${object} again; \`helm upgrade\` ` +
        "restores the configuration, and the operator resumes with it",
    );
    this.name = "InstallationGoneError";
  }
}

export interface ReleaseOwnerOptions {
  /** The configuration's name (--webhook-configuration-name). */
  readonly name: string;
  /** Reads the configuration: its UID; throws the API's error (404: absent). */
  readonly read: () => Promise<{ metadata?: { uid?: string } }>;
  readonly clock: Clock;
  readonly log: Logger;
  /** A refusal of the same object is logged at most this often (default 5 minutes). */
  readonly logEveryMs?: number;
}

export class ReleaseOwner {
  private state: OwnerState | undefined;
  private readonly listeners: ((state: OwnerState) => void)[] = [];
  private readonly lastLogged = new Map<string, number>();

  constructor(private readonly options: ReleaseOwnerOptions) {}

  /** The last lookup's answer, without a request; undefined before the first one. */
  cached(): OwnerState | undefined {
    return this.state;
  }

  /** Called after a lookup found a different state (gone, back, replaced). */
  onChange(listener: (state: OwnerState) => void): void {
    this.listeners.push(listener);
  }

  /** A fresh read. Throws the API's error for anything but a 404 (nothing may be decided on it). */
  async lookup(): Promise<OwnerState> {
    let uid: string | undefined;
    try {
      uid = (await this.options.read()).metadata?.uid;
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 404)) throw error;
    }
    const next = nextOwnerState(this.state, this.options.name, uid);
    const previous = this.state;
    this.state = next;
    if (previous !== undefined && key(previous) !== key(next)) this.changed(previous, next);
    return next;
  }

  /**
   * What an object it reads says of the configuration: an owner reference to it (the Lease another
   * replica wrote once it had found the configuration) proves the configuration existed, with that
   * uid. A replica that never looked after the configuration was created (it started before, and its
   * lookups failed or raced) would otherwise read a later 404 as "not created yet" and create the
   * object without an owner while the installation is being removed. No request.
   */
  learn(owners: readonly { kind?: string; name?: string; uid?: string }[] | undefined): void {
    if (this.state?.kind === "found" || this.state?.kind === "gone") return;
    const ref = owners?.find(
      (owner) => owner.kind === "MutatingWebhookConfiguration" && owner.name === this.options.name,
    );
    if (!ref?.uid) return;
    const previous = this.state;
    this.state = nextOwnerState(this.state, this.options.name, ref.uid);
    if (previous !== undefined && key(previous) !== key(this.state)) this.changed(previous, this.state);
  }

  /**
   * Looks again while this process has not found the configuration (so that a later 404 reads as
   * gone, not as "not created yet"); no request once found. Never throws.
   */
  async seeUnlessFound(): Promise<void> {
    if (this.state?.kind !== "found") await this.lookup().catch(() => undefined);
  }

  /**
   * For a create of `object` (and the registrar's apply): the owner looked up fresh; undefined while
   * the configuration was never seen. Throws InstallationGoneError (logged, rate-limited) when gone.
   */
  async forCreate(object: string): Promise<V1OwnerReference | undefined> {
    const state = await this.lookup();
    if (state.kind === "found") return state.reference;
    if (state.kind === "not-created") return undefined;
    const error = new InstallationGoneError(this.options.name, state.uid, object);
    this.logRefusal(object, error);
    throw error;
  }

  /**
   * For an update of an existing object: the owner it should name, from the cache when found, else
   * looked up; undefined (leave the object's own references as they are) when there is none or the
   * lookup failed. Never throws: an update never creates, so it must not be lost to a lookup.
   */
  async forUpdate(): Promise<V1OwnerReference | undefined> {
    const cached = this.state;
    if (cached?.kind === "found") return cached.reference;
    const state = await this.lookup().catch(() => undefined);
    return state?.kind === "found" ? state.reference : undefined;
  }

  private logRefusal(object: string, error: InstallationGoneError): void {
    const now = this.options.clock.now();
    const last = this.lastLogged.get(object);
    if (last !== undefined && now - last < (this.options.logEveryMs ?? 300_000)) return;
    this.lastLogged.set(object, now);
    this.options.log.warn(
      { err: error, configuration: this.options.name, uid: error.uid, object },
      "the installation's MutatingWebhookConfiguration is gone: not creating the object again",
    );
  }

  private changed(previous: OwnerState, next: OwnerState): void {
    const { log, name } = this.options;
    if (next.kind === "found") {
      this.lastLogged.clear();
      log.info(
        { configuration: name, uid: next.reference.uid, previous: key(previous) },
        "the installation's MutatingWebhookConfiguration is there: creating with it as owner",
      );
    }
    for (const listener of this.listeners) listener(next);
  }
}

function key(state: OwnerState): string {
  if (state.kind === "found") return `found:${state.reference.uid}`;
  return state.kind === "gone" ? `gone:${state.uid}` : state.kind;
}
