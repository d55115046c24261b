/** What the webhook server serves with; sources (Secret, files) push new ones as they change. */
export interface ServingCerts {
  readonly certPem: string;
  readonly keyPem: string;
  /** Unix ms at which certPem expires (for the expiry gauge). */
  readonly notAfter: number;
}

export interface CertSource {
  /** The certificates to serve now; undefined until loaded. */
  current(): ServingCerts | undefined;
  onChange(listener: (certs: ServingCerts) => void): void;
}

/** A CertSource whose value is set by its owner. */
export class CertHolder implements CertSource {
  private value: ServingCerts | undefined;
  private readonly listeners: ((certs: ServingCerts) => void)[] = [];

  current(): ServingCerts | undefined {
    return this.value;
  }

  onChange(listener: (certs: ServingCerts) => void): void {
    this.listeners.push(listener);
  }

  set(certs: ServingCerts): void {
    if (this.value && this.value.certPem === certs.certPem && this.value.keyPem === certs.keyPem) return;
    this.value = certs;
    for (const listener of this.listeners) listener(certs);
  }
}
