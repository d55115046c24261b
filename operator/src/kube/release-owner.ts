import {
  type AdmissionregistrationV1Api,
  ApiException,
  type V1OwnerReference,
} from "@kubernetes/client-node";
import type { Logger } from "pino";

/**
 * The owner of what the operator creates for its installation (the webhook's certificate Secret, the
 * leader Lease): the installation's MutatingWebhookConfiguration, which the chart owns. Its deletion
 * (`helm uninstall`) lets the garbage collector delete them too, so no CA key outlives the release.
 * (A namespaced object may have a cluster-scoped owner.) Found once; until the configuration exists,
 * objects are written without an owner and the next write adds it.
 */
export type OwnerLookup = () => Promise<V1OwnerReference | undefined>;

export function webhookConfigurationOwner(
  admission: AdmissionregistrationV1Api,
  name: string,
  log: Logger,
): OwnerLookup {
  let found: V1OwnerReference | undefined;
  return async () => {
    if (found) return found;
    try {
      const configuration = await admission.readMutatingWebhookConfiguration({ name });
      const uid = configuration.metadata?.uid;
      if (uid === undefined) return undefined;
      found = {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "MutatingWebhookConfiguration",
        name,
        uid,
      };
      return found;
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) {
        log.info({ name }, "no MutatingWebhookConfiguration to own the operator's objects yet");
        return undefined;
      }
      throw error;
    }
  };
}
