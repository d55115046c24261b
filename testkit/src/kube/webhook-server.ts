import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type {
  KubeConfig,
  V1LabelSelector,
  V1MutatingWebhookConfiguration,
  V1RuleWithOperations,
} from "@kubernetes/client-node";
import { AdmissionregistrationV1Api } from "@kubernetes/client-node";
import { waitFor } from "../wait.js";
import { createCertificateAuthority } from "./pki.js";

/** The fields of an admission.k8s.io/v1 AdmissionReview request that tests look at. */
export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: { readonly group: string; readonly version: string; readonly kind: string };
  readonly operation: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly dryRun?: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: the admitted object is whatever the rule matched
  readonly object?: any;
}

export interface AdmissionReview {
  readonly apiVersion: string;
  readonly kind: "AdmissionReview";
  readonly request: AdmissionRequest;
}

export interface JsonPatchOperation {
  readonly op: "add" | "remove" | "replace" | "move" | "copy" | "test";
  readonly path: string;
  readonly value?: unknown;
  readonly from?: string;
}

export interface WebhookServerOptions {
  readonly kubeConfig: KubeConfig;
  /** Which requests the API server sends (e.g. pods CREATE). */
  readonly rules: readonly V1RuleWithOperations[];
  /** The JSON patch to answer with; none (or []) admits unchanged. Throwing denies with the message. */
  readonly mutate?: (request: AdmissionRequest) => readonly JsonPatchOperation[] | undefined;
  readonly namespaceSelector?: V1LabelSelector;
  readonly objectSelector?: V1LabelSelector;
  /** Default Fail, so a test notices a webhook that was not called correctly. */
  readonly failurePolicy?: "Fail" | "Ignore";
  /** MutatingWebhookConfiguration name; default a unique apicache-test-… */
  readonly name?: string;
}

/** A running test webhook, registered with the API server. */
export interface WebhookServer {
  /** The clientConfig.url the API server calls. */
  readonly url: string;
  readonly caPem: string;
  readonly configurationName: string;
  /** Every AdmissionReview received, in order. */
  readonly reviews: readonly AdmissionReview[];
  /** The first review (already received or arriving before the deadline) that matches. */
  waitForReview(match: (review: AdmissionReview) => boolean, timeoutMs?: number): Promise<AdmissionReview>;
  /**
   * Wait until the API server calls this webhook: the configuration reaches the API server's webhook
   * informer asynchronously. `trigger` sends a request the rules match (a dry-run create is ideal)
   * and is repeated until a new review arrives.
   */
  waitUntilCalled(trigger: () => Promise<unknown>, timeoutMs?: number): Promise<void>;
  /** Delete the configuration and close the server. */
  close(): Promise<void>;
}

function admissionResponse(review: AdmissionReview, mutate: WebhookServerOptions["mutate"]): object {
  const uid = review.request.uid;
  try {
    const patch = mutate?.(review.request) ?? [];
    const patchFields =
      patch.length > 0
        ? { patchType: "JSONPatch", patch: Buffer.from(JSON.stringify(patch)).toString("base64") }
        : {};
    return { uid, allowed: true, ...patchFields };
  } catch (error) {
    return {
      uid,
      allowed: false,
      status: { code: 403, message: error instanceof Error ? error.message : String(error) },
    };
  }
}

function serve(
  received: AdmissionReview[],
  mutate: WebhookServerOptions["mutate"],
  tls: { cert: string; key: string },
): Server {
  return createServer(tls, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let review: AdmissionReview;
      try {
        review = JSON.parse(Buffer.concat(chunks).toString("utf8")) as AdmissionReview;
      } catch {
        res.writeHead(400).end("not an AdmissionReview");
        return;
      }
      received.push(review);
      const body = JSON.stringify({
        apiVersion: review.apiVersion,
        kind: "AdmissionReview",
        response: admissionResponse(review, mutate),
      });
      res.writeHead(200, { "content-type": "application/json" }).end(body);
    });
  });
}

function configuration(
  options: WebhookServerOptions,
  name: string,
  url: string,
  caPem: string,
): V1MutatingWebhookConfiguration {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: { name, labels: { "apicache.io/e2e": "true" } },
    webhooks: [
      {
        name: `${name}.webhook.apicache.io`,
        clientConfig: { url, caBundle: Buffer.from(caPem).toString("base64") },
        rules: [...options.rules],
        admissionReviewVersions: ["v1"],
        sideEffects: "None",
        failurePolicy: options.failurePolicy ?? "Fail",
        timeoutSeconds: 10,
        ...(options.namespaceSelector === undefined ? {} : { namespaceSelector: options.namespaceSelector }),
        ...(options.objectSelector === undefined ? {} : { objectSelector: options.objectSelector }),
      },
    ],
  };
}

/**
 * Serve a mutating webhook over HTTPS on 127.0.0.1 (certificate from a fresh test CA, SANs 127.0.0.1 and
 * localhost) and register it with a MutatingWebhookConfiguration using clientConfig.url + caBundle.
 */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const ca = createCertificateAuthority("apicache-test-webhook-ca");
  const serving = ca.issue({
    commonName: "127.0.0.1",
    usage: "server",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
  });
  const received: AdmissionReview[] = [];
  const server = serve(received, options.mutate, { cert: serving.certPem, key: serving.keyPem });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/mutate`;
  const name = options.name ?? `apicache-test-${randomBytes(4).toString("hex")}`;
  const api = options.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  try {
    await api.createMutatingWebhookConfiguration({ body: configuration(options, name, url, ca.certPem) });
  } catch (error) {
    server.close();
    throw error;
  }
  const waitForReview = (match: (review: AdmissionReview) => boolean, timeoutMs = 30_000) =>
    waitFor(`an AdmissionReview at ${url}`, () => received.find(match), { timeoutMs, intervalMs: 50 });
  return {
    url,
    caPem: ca.certPem,
    configurationName: name,
    reviews: received,
    waitForReview,
    waitUntilCalled: async (trigger, timeoutMs = 30_000) => {
      await waitFor(
        `the API server to call the webhook at ${url}`,
        async () => {
          const before = received.length;
          await trigger().catch(() => undefined);
          return received.length > before;
        },
        { timeoutMs, intervalMs: 200 },
      );
    },
    close: async () => {
      await api.deleteMutatingWebhookConfiguration({ name }).catch(() => undefined);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
