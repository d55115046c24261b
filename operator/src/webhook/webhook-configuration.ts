import {
  INJECT_LABEL,
  NAMESPACE_INJECTION_LABEL,
  NAMESPACE_NAME_LABEL,
  PART_OF_LABEL,
  WEBHOOK_NAME,
  WEBHOOK_PATH,
} from "../constants.js";

/**
 * The MutatingWebhookConfiguration the operator registers (pure): pods, CREATE only, opt-in
 * namespaces, its own namespace and kube-system excluded, opted-out pods excluded, never blocking.
 */
export interface WebhookConfigurationInput {
  readonly name: string;
  readonly operatorNamespace: string;
  /** Out of cluster: the base URL; in cluster: the Service (port 443). */
  readonly target: { readonly url: string } | { readonly service: string };
  /** PEM; absent in cert-manager mode (cainjector fills it). */
  readonly caBundlePem?: string;
  readonly timeoutSeconds: number;
}

export function webhookConfiguration(input: WebhookConfigurationInput) {
  const clientConfig =
    "url" in input.target
      ? { url: `${input.target.url.replace(/\/$/, "")}${WEBHOOK_PATH}` }
      : {
          service: {
            namespace: input.operatorNamespace,
            name: input.target.service,
            path: WEBHOOK_PATH,
            port: 443,
          },
        };
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: {
      name: input.name,
      labels: { [PART_OF_LABEL]: "apicache" },
    },
    webhooks: [
      {
        name: WEBHOOK_NAME,
        admissionReviewVersions: ["v1"],
        clientConfig: {
          ...clientConfig,
          ...(input.caBundlePem ? { caBundle: Buffer.from(input.caBundlePem).toString("base64") } : {}),
        },
        rules: [
          {
            apiGroups: [""],
            apiVersions: ["v1"],
            operations: ["CREATE"],
            resources: ["pods"],
            scope: "Namespaced",
          },
        ],
        namespaceSelector: {
          matchExpressions: [
            { key: NAMESPACE_INJECTION_LABEL, operator: "In", values: ["enabled"] },
            {
              key: NAMESPACE_NAME_LABEL,
              operator: "NotIn",
              values: [input.operatorNamespace, "kube-system"],
            },
          ],
        },
        objectSelector: { matchExpressions: [{ key: INJECT_LABEL, operator: "NotIn", values: ["false"] }] },
        failurePolicy: "Ignore",
        sideEffects: "None",
        matchPolicy: "Equivalent",
        reinvocationPolicy: "Never",
        timeoutSeconds: input.timeoutSeconds,
      },
    ],
  };
}
