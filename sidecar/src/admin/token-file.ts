import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import { ERROR_CODES, SidecarError } from "../errors.js";

/**
 * The admin token from `--admin-token-file`, re-read every `pollMs` so a rotated Secret takes effect
 * without a restart (the kubelet swaps a Secret volume's files in place). The file holds the token,
 * surrounding whitespace ignored.
 *
 * At start the file must hold a token: an empty or unreadable file is refused
 * (APICACHE_ERR_ADMIN_TOKEN), never read as "no authentication". With `wait`, a file that does not
 * exist yet (an optional Secret volume whose Secret the operator has not created yet) is allowed:
 * until it appears, the guarded endpoints answer 503. Once a token was read, a file that turns empty
 * or disappears keeps the last token (a half-finished swap must not open or close the API).
 */
export interface TokenFileOptions {
  readonly path: string;
  readonly wait?: boolean;
  readonly pollMs?: number;
  readonly log: Logger;
}

export type TokenRead =
  | { readonly kind: "token"; readonly token: string }
  | { readonly kind: "absent" }
  | { readonly kind: "empty" }
  | { readonly kind: "unreadable"; readonly message: string };

export function readTokenFile(path: string): TokenRead {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? { kind: "absent" } : { kind: "unreadable", message: (error as Error).message };
  }
  const token = text.trim();
  return token === "" ? { kind: "empty" } : { kind: "token", token };
}

export class TokenFile {
  #token: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #problem: string | undefined;
  readonly #options: TokenFileOptions;

  /** Reads the file once; throws a SidecarError (APICACHE_ERR_ADMIN_TOKEN) when it cannot be used. */
  constructor(options: TokenFileOptions) {
    this.#options = options;
    const read = readTokenFile(options.path);
    if (read.kind === "token") this.#token = read.token;
    else if (read.kind === "absent" && options.wait) {
      options.log.warn(
        { code: ERROR_CODES.ADMIN_TOKEN_PENDING, path: options.path },
        "the admin token file does not exist yet: /invalidate, /warm and /stats answer 503 until it appears",
      );
    } else throw new SidecarError(ERROR_CODES.ADMIN_TOKEN, refusal(options.path, read));
  }

  current(): string | undefined {
    return this.#token;
  }

  /** Starts watching the file (an unref'd poll). */
  start(): void {
    this.stop();
    this.#timer = setInterval(() => this.#reread(), this.#options.pollMs ?? 1_000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #reread(): void {
    const read = readTokenFile(this.#options.path);
    if (read.kind !== "token") {
      const problem = refusal(this.#options.path, read);
      if (this.#token !== undefined && problem !== this.#problem) {
        this.#options.log.warn(
          { code: ERROR_CODES.ADMIN_TOKEN, path: this.#options.path },
          `${problem}; keeping the previous token`,
        );
      }
      this.#problem = problem;
      return;
    }
    this.#problem = undefined;
    if (read.token === this.#token) return;
    const first = this.#token === undefined;
    this.#token = read.token;
    this.#options.log.info(
      { path: this.#options.path },
      first ? "admin token file appeared: the admin API accepts it" : "admin token changed (rotated)",
    );
  }
}

function refusal(path: string, read: Exclude<TokenRead, { kind: "token" }>): string {
  switch (read.kind) {
    case "empty":
      return `--admin-token-file ${path} is empty: put the admin API's bearer token in it (an empty token would leave the admin API open)`;
    case "absent":
      return `--admin-token-file ${path} does not exist: create it with the admin API's bearer token`;
    case "unreadable":
      return `--admin-token-file ${path} cannot be read: ${read.message}`;
  }
}
