import { type KubeConfig, type KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import type { Config } from "../config.js";
import { FIELD_MANAGER } from "../constants.js";
import { OPERATOR_ERROR_CODES, OperatorError } from "../errors.js";
import { abortableObjectsApi, untilAborted } from "../kube/abort.js";
import type { ReleaseOwner } from "../kube/release-owner.js";
import { webhookConfiguration } from "./webhook-configuration.js";

/** Applies the configuration during the leader's `term`: its requests abort, nothing is applied after it. */
export type RegisterWebhook = (caBundlePem: string | undefined, term: AbortSignal) => Promise<void>;

export interface RegistrarDeps {
  readonly kubeConfig: KubeConfig;
  readonly owner: ReleaseOwner;
  /** Builds the generic-object client whose requests abort with `term` (kube/abort.ts by default). */
  readonly objectsFor?: (term: AbortSignal) => KubernetesObjectApi;
}

/**
 * Leader only: server-side apply of the installation's MutatingWebhookConfiguration (with the
 * caBundle, if any). The configuration is the installation's anchor (ADR 0007), so the apply carries
 * the UID just looked up as a precondition: one deleted or replaced meanwhile is a conflict, never
 * re-created. It is created only while this process has never seen it (the leader registers itself,
 * as in the e2e tier; the chart's RBAC does not allow it), and not at all once it is gone
 * (InstallationGoneError, logged by the owner).
 *
 * The leader's calls carry its term: the owner lookup is awaited only while the term lasts, the apply
 * goes through a client whose requests abort with it (one per term, since KubernetesObjectApi ignores
 * per-call middleware), and nothing is applied once the term has ended.
 */
export function webhookRegistrar(config: Readonly<Config>, deps: RegistrarDeps): RegisterWebhook {
  const { owner } = deps;
  const objectsFor = deps.objectsFor ?? ((term: AbortSignal) => abortableObjectsApi(deps.kubeConfig, term));
  const clients = new WeakMap<AbortSignal, KubernetesObjectApi>();
  return async (caBundlePem, term) => {
    const name = config.webhookConfigurationName;
    const found = await untilAborted(owner.forCreate(`MutatingWebhookConfiguration ${name}`), term);
    const body = webhookConfiguration({
      name,
      operatorNamespace: config.namespace,
      target: config.webhookUrl ? { url: config.webhookUrl } : { service: config.webhookService },
      ...(caBundlePem ? { caBundlePem } : {}),
      timeoutSeconds: config.webhookTimeoutSeconds,
    });
    const applied = found ? { ...body, metadata: { ...body.metadata, uid: found.uid } } : body;
    term.throwIfAborted();
    const objects = clients.get(term) ?? objectsFor(term);
    clients.set(term, objects);
    try {
      const apply = objects.patch(
        applied as never,
        undefined,
        undefined,
        FIELD_MANAGER,
        true,
        PatchStrategy.ServerSideApply,
      );
      await untilAborted(apply, term);
    } catch (error) {
      throw new OperatorError(
        OPERATOR_ERROR_CODES.WEBHOOK_REGISTRATION,
        `registering MutatingWebhookConfiguration ${name} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
  };
}
