// cert-manager mode: the chart builds a CA chain (self-signed Issuer → CA Certificate → CA Issuer →
// serving Certificate) and has the CA injector fill the webhook's caBundle from the CA, so renewing the
// serving certificate never changes what the API server trusts. Rendered with the real helm.
import type { V1Deployment } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { HELMS, type K8sObject, template } from "./helm.js";

const NAMESPACE = "apicache-system";
const CERT_MANAGER = { "webhook.certificate.mode": "cert-manager" } as const;

interface IssuerRef {
  readonly name: string;
  readonly kind: string;
  readonly group?: string;
}

interface CertificateSpec {
  readonly secretName: string;
  readonly isCA?: boolean;
  readonly commonName?: string;
  readonly duration: string;
  readonly renewBefore: string;
  readonly dnsNames?: string[];
  readonly usages?: string[];
  readonly privateKey: { readonly rotationPolicy: string };
  readonly issuerRef: IssuerRef;
}

interface IssuerSpec {
  readonly selfSigned?: Record<string, never>;
  readonly ca?: { readonly secretName: string };
}

function ofKind<T>(objects: readonly K8sObject[], kind: string): (K8sObject & { spec: T })[] {
  return objects.filter((o) => o.kind === kind) as (K8sObject & { spec: T })[];
}

function named<T extends K8sObject>(objects: readonly T[], name: string): T {
  const found = objects.find((o) => o.metadata.name === name);
  if (!found)
    throw new Error(`nothing named ${name} among ${objects.map((o) => o.metadata.name).join(", ")}`);
  return found;
}

/** The issuer a Certificate names, among the rendered Issuers. */
function issuerOf(
  issuers: readonly (K8sObject & { spec: IssuerSpec })[],
  certificate: { spec: CertificateSpec },
) {
  expect(certificate.spec.issuerRef).toMatchObject({ kind: "Issuer", group: "cert-manager.io" });
  return named(issuers, certificate.spec.issuerRef.name);
}

function injectCaFrom(objects: readonly K8sObject[]): string | undefined {
  const configuration = objects.find((o) => o.kind === "MutatingWebhookConfiguration") as
    | (K8sObject & { metadata: { annotations?: Record<string, string> } })
    | undefined;
  return configuration?.metadata.annotations?.["cert-manager.io/inject-ca-from"];
}

/** The Secret the operator's cert-manager volume mounts (it reads tls.crt and tls.key from it). */
function mountedCertSecret(objects: readonly K8sObject[]): { secret: string; certDir: string } {
  const deployment = objects.find((o) => o.kind === "Deployment") as unknown as V1Deployment;
  const pod = deployment.spec?.template.spec;
  const container = pod?.containers.find((c) => c.name === "operator");
  const certDir = container?.args?.find((a) => a.startsWith("--cert-dir="))?.slice("--cert-dir=".length);
  const mount = container?.volumeMounts?.find((m) => m.mountPath === certDir);
  const volume = pod?.volumes?.find((v) => v.name === mount?.name);
  if (!certDir || !volume?.secret?.secretName) throw new Error("no --cert-dir backed by a Secret volume");
  return { secret: volume.secret.secretName, certDir };
}

describe("the webhook certificate in cert-manager mode", () => {
  describe.each(HELMS)("with the chart's own CA (%s)", (which) => {
    it("chains self-signed Issuer → CA Certificate → CA Issuer → serving Certificate", async () => {
      const objects = await template(which, CERT_MANAGER);
      const issuers = ofKind<IssuerSpec>(objects, "Issuer");
      const certificates = ofKind<CertificateSpec>(objects, "Certificate");
      expect(issuers).toHaveLength(2);
      expect(certificates).toHaveLength(2);

      const serving = named(certificates, "apicache-webhook");
      const caIssuer = issuerOf(issuers, serving);
      expect(caIssuer.spec.selfSigned).toBeUndefined();
      const ca = named(certificates, "apicache-webhook-ca");
      expect(caIssuer.spec.ca?.secretName).toBe(ca.spec.secretName);
      expect(ca.spec.isCA).toBe(true);
      const root = issuerOf(issuers, ca);
      expect(root.spec).toEqual({ selfSigned: {} });
      for (const object of [...issuers, ...certificates]) expect(object.metadata.namespace).toBe(NAMESPACE);

      expect(serving.spec.isCA).toBeFalsy();
      expect(serving.spec.dnsNames).toEqual([
        `apicache-webhook.${NAMESPACE}.svc`,
        `apicache-webhook.${NAMESPACE}.svc.cluster.local`,
      ]);
      expect(serving.spec.usages).toEqual(expect.arrayContaining(["server auth"]));
      expect(serving.spec.secretName).not.toBe(ca.spec.secretName);
    });

    it("injects the caBundle from the CA Certificate, not from the serving one", async () => {
      const objects = await template(which, CERT_MANAGER);
      expect(injectCaFrom(objects)).toBe(`${NAMESPACE}/apicache-webhook-ca`);
    });
  });

  it("renews the serving certificate with a new key, well inside the CA's life, and keeps the CA's key", async () => {
    const objects = await template("helm4", CERT_MANAGER);
    const certificates = ofKind<CertificateSpec>(objects, "Certificate");
    const serving = named(certificates, "apicache-webhook");
    const ca = named(certificates, "apicache-webhook-ca");
    // A renewed CA with the same key still verifies what the previous CA certificate signed, so the
    // caBundle the injector swaps in never strands the serving certificate.
    expect(ca.spec.privateKey.rotationPolicy).toBe("Never");
    expect(serving.spec.privateKey.rotationPolicy).toBe("Always");
    expect(hours(serving.spec.duration)).toBeLessThan(hours(ca.spec.duration) - hours(ca.spec.renewBefore));
    expect(hours(serving.spec.renewBefore)).toBeLessThan(hours(serving.spec.duration));
  });

  it("passes the CA's lifetime from values", async () => {
    const objects = await template("helm4", {
      ...CERT_MANAGER,
      "webhook.certificate.certManager.ca.duration": "43800h",
      "webhook.certificate.certManager.ca.renewBefore": "4380h",
    });
    const ca = named(ofKind<CertificateSpec>(objects, "Certificate"), "apicache-webhook-ca");
    expect(ca.spec).toMatchObject({ duration: "43800h", renewBefore: "4380h" });
  });

  it("mounts the serving Certificate's Secret where the operator reads tls.crt and tls.key, never the CA's", async () => {
    const objects = await template("helm4", CERT_MANAGER);
    const certificates = ofKind<CertificateSpec>(objects, "Certificate");
    const { secret, certDir } = mountedCertSecret(objects);
    expect(secret).toBe(named(certificates, "apicache-webhook").spec.secretName);
    expect(secret).not.toBe(named(certificates, "apicache-webhook-ca").spec.secretName);
    expect(certDir).toBe("/etc/apicache/webhook-certs");
  });

  describe("with an issuerRef of the user's", () => {
    const values = {
      ...CERT_MANAGER,
      "webhook.certificate.certManager.issuerRef.kind": "ClusterIssuer",
      "webhook.certificate.certManager.issuerRef.name": "corp-ca",
    };

    it("issues only the serving Certificate, from that issuer, and renders no Issuer or CA of its own", async () => {
      const objects = await template("helm4", values);
      expect(ofKind(objects, "Issuer")).toEqual([]);
      const certificates = ofKind<CertificateSpec>(objects, "Certificate");
      expect(certificates.map((c) => c.metadata.name)).toEqual(["apicache-webhook"]);
      expect(certificates[0]?.spec.issuerRef).toEqual({
        name: "corp-ca",
        kind: "ClusterIssuer",
        group: "cert-manager.io",
      });
    });

    it("injects the issuing CA (ca.crt of the serving Certificate's Secret)", async () => {
      const objects = await template("helm4", values);
      expect(injectCaFrom(objects)).toBe(`${NAMESPACE}/apicache-webhook`);
    });
  });

  it("renders no cert-manager object in self-managed mode", async () => {
    const objects = await template("helm4");
    expect(objects.filter((o) => o.apiVersion.startsWith("cert-manager.io/"))).toEqual([]);
    expect(injectCaFrom(objects)).toBeUndefined();
  });
});

/** Hours in a cert-manager duration such as 2160h or 720h0m0s (the chart's values use hours). */
function hours(duration: string): number {
  const match = /^([0-9]+)h(0m(0s)?)?$/.exec(duration);
  if (!match) throw new Error(`not a whole number of hours: ${duration}`);
  return Number(match[1]);
}
