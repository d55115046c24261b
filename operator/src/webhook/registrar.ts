import { type KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import type { Config } from "../config.js";
import { FIELD_MANAGER } from "../constants.js";
import { OPERATOR_ERROR_CODES, OperatorError } from "../errors.js";
import type { ReleaseOwner } from "../kube/release-owner.js";
import { webhookConfiguration } from "./webhook-configuration.js";

export type RegisterWebhook = (caBundlePem: string | undefined) => Promise<void>;

/**
 * Leader only: server-side apply of the installation's MutatingWebhookConfiguration (with the
 * caBundle, if any). The configuration is the installation's anchor (ADR 0007), so the apply carries
 * the UID just looked up as a precondition: one deleted or replaced meanwhile is a conflict, never
 * re-created. It is created only while this process has never seen it (the leader registers itself,
 * as in the e2e tier; the chart's RBAC does not allow it), and not at all once it is gone
 * (InstallationGoneError, logged by the owner).
 */
export function webhookRegistrar(
  config: Readonly<Config>,
  objects: KubernetesObjectApi,
  owner: ReleaseOwner,
): RegisterWebhook {
  return async (caBundlePem) => {
    const name = config.webhookConfigurationName;
    const found = await owner.forCreate(`MutatingWebhookConfiguration ${name}`);
    const body = webhookConfiguration({
      name,
      operatorNamespace: config.namespace,
      target: config.webhookUrl ? { url: config.webhookUrl } : { service: config.webhookService },
      ...(caBundlePem ? { caBundlePem } : {}),
      timeoutSeconds: config.webhookTimeoutSeconds,
    });
    const applied = found ? { ...body, metadata: { ...body.metadata, uid: found.uid } } : body;
    try {
      await objects.patch(
        applied as never,
        undefined,
        undefined,
        FIELD_MANAGER,
        true,
        PatchStrategy.ServerSideApply,
      );
    } catch (error) {
      throw new OperatorError(
        OPERATOR_ERROR_CODES.WEBHOOK_REGISTRATION,
        `registering MutatingWebhookConfiguration ${name} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
  };
}
