import { generateKeyPairSync, randomBytes, X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import forge from "node-forge";
import type { StoredCerts, Validity } from "./rotation.js";

/**
 * A self-managed CA and the webhook's serving certificate (node-forge builds the certificates; the
 * RSA keys come from node:crypto, which is much faster). No I/O.
 */
export interface KeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

function newKey(): { forgeKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), pem };
}

function baseCert(publicKey: forge.pki.rsa.PublicKey, now: number, validityMs: number) {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = `01${randomBytes(15).toString("hex")}`;
  // Backdated (a minute, or a tenth of a short lifetime): the API server's clock may lag ours.
  cert.validity.notBefore = new Date(now - Math.min(60_000, Math.floor(validityMs / 10)));
  cert.validity.notAfter = new Date(now + validityMs);
  return cert;
}

export function issueCa(now: number, validityMs: number, commonName = "apicache-webhook-ca"): KeyPair {
  const key = newKey();
  const cert = baseCert(key.publicKey, now, validityMs);
  const subject = [{ name: "commonName", value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(key.forgeKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: key.pem };
}

/** A serving certificate for `names` (DNS names and IP addresses), signed by `ca`. */
export function issueServing(
  ca: KeyPair,
  names: readonly string[],
  now: number,
  validityMs: number,
): KeyPair {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const key = newKey();
  const cert = baseCert(key.publicKey, now, validityMs);
  cert.setSubject([{ name: "commonName", value: names[0] ?? "apicache-webhook" }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = names.map((name) => (isIP(name) ? { type: 7, ip: name } : { type: 2, value: name }));
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: key.pem };
}

export function validityOf(certPem: string): Validity {
  const cert = new X509Certificate(certPem);
  return { notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo) };
}

/** DNS names and IPs of a certificate's subjectAltName. */
export function namesOf(certPem: string): string[] {
  const san = new X509Certificate(certPem).subjectAltName ?? "";
  return san
    .split(",")
    .map((entry) => entry.trim())
    .map((entry) => entry.replace(/^(DNS|IP Address):/, ""))
    .filter((entry) => entry !== "");
}

export function describeCerts(certs: { ca: KeyPair; serving: KeyPair }): StoredCerts {
  return {
    ca: validityOf(certs.ca.certPem),
    serving: { ...validityOf(certs.serving.certPem), names: namesOf(certs.serving.certPem) },
  };
}
