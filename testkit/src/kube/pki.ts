import { generateKeyPairSync, randomBytes } from "node:crypto";
import forge from "node-forge";

/**
 * A throwaway PKI for test clusters and test webhooks: a CA, certificates it signs (server and client),
 * and bare key pairs. Keys come from node:crypto (fast, native); node-forge builds the X.509 certificates.
 */
export interface KeyPairPem {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

export interface CertificatePem {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CertificateAuthority extends CertificatePem {
  /** Sign a certificate for a server (DNS names and IPs in the SAN) or a client (CN + organizations). */
  issue(request: CertificateRequest): CertificatePem;
}

export interface CertificateRequest {
  readonly commonName: string;
  /** Subject organizations: Kubernetes maps them to groups (e.g. system:masters). */
  readonly organizations?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly usage: "server" | "client";
}

const validityDays = 2;

export function generateKeyPair(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

function newCertificate(publicKeyPem: string): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  // Positive 16-byte serial (leading byte below 0x80).
  cert.serialNumber = `01${randomBytes(15).toString("hex")}`;
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now + validityDays * 24 * 60 * 60 * 1000);
  return cert;
}

function subject(commonName: string, organizations: readonly string[] = []): forge.pki.CertificateField[] {
  return [
    { name: "commonName", value: commonName },
    ...organizations.map((value) => ({ name: "organizationName", value })),
  ];
}

function altNames(request: CertificateRequest): { type: number; value?: string; ip?: string }[] {
  return [
    ...(request.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(request.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
}

function issueWith(
  ca: forge.pki.Certificate,
  caKey: forge.pki.rsa.PrivateKey,
  request: CertificateRequest,
): CertificatePem {
  const keys = generateKeyPair();
  const cert = newCertificate(keys.publicKeyPem);
  cert.setSubject(subject(request.commonName, request.organizations));
  cert.setIssuer(ca.subject.attributes);
  const extensions: object[] = [
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", critical: true, digitalSignature: true, keyEncipherment: true },
    request.usage === "server"
      ? { name: "extKeyUsage", serverAuth: true }
      : { name: "extKeyUsage", clientAuth: true },
  ];
  const sans = altNames(request);
  if (sans.length > 0) extensions.push({ name: "subjectAltName", altNames: sans });
  cert.setExtensions(extensions);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem };
}

/** A new self-signed CA that can issue server and client certificates. */
export function createCertificateAuthority(commonName = "apicache-test-ca"): CertificateAuthority {
  const keys = generateKeyPair();
  const cert = newCertificate(keys.publicKeyPem);
  cert.setSubject(subject(commonName));
  cert.setIssuer(subject(commonName));
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", critical: true, keyCertSign: true, cRLSign: true, digitalSignature: true },
    { name: "subjectKeyIdentifier" },
  ]);
  const caKey = forge.pki.privateKeyFromPem(keys.privateKeyPem);
  cert.sign(caKey, forge.md.sha256.create());
  return {
    certPem: forge.pki.certificateToPem(cert),
    keyPem: keys.privateKeyPem,
    issue: (request) => issueWith(cert, caKey, request),
  };
}
