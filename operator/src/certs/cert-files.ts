import { type FSWatcher, readFileSync, watch } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { OPERATOR_ERROR_CODES, OperatorError } from "../errors.js";
import { validityOf } from "./issue.js";
import { CertHolder } from "./serving-certs.js";

/**
 * cert-manager mode: tls.crt and tls.key from a mounted Secret directory, reloaded when the kubelet
 * swaps the files (fs.watch on the directory; a slow re-read as a safety net).
 */
export class CertFiles extends CertHolder {
  private watcher: FSWatcher | undefined;
  private interval: NodeJS.Timeout | undefined;

  constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {
    super();
  }

  start(): void {
    this.load(true);
    this.watcher = watch(this.dir, () => this.load(false));
    this.watcher.on("error", (error) =>
      this.log.warn({ err: error, dir: this.dir }, "certificate directory watch failed"),
    );
    this.interval = setInterval(() => this.load(false), 30_000);
    this.interval.unref();
  }

  stop(): void {
    this.watcher?.close();
    if (this.interval) clearInterval(this.interval);
  }

  private load(initial: boolean): void {
    try {
      const certPem = readFileSync(join(this.dir, "tls.crt"), "utf8");
      const keyPem = readFileSync(join(this.dir, "tls.key"), "utf8");
      this.set({ certPem, keyPem, notAfter: validityOf(certPem).notAfter });
    } catch (error) {
      const wrapped = new OperatorError(
        OPERATOR_ERROR_CODES.WEBHOOK_CERT,
        `cannot read tls.crt/tls.key in ${this.dir}: ${(error as Error).message}. Mount the cert-manager Certificate's Secret there (--cert-dir).`,
        { cause: error },
      );
      if (initial) throw wrapped;
      this.log.warn({ err: wrapped }, "certificate reload failed; serving the previous certificate");
    }
  }
}
