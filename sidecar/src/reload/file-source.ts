import { type FSWatcher, watch } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { Logger } from "pino";
import { ERROR_CODES } from "../errors.js";
import type { PolicySource } from "./policy-source.js";

/**
 * The policy file, watched for changes. It watches the file and its directory — a ConfigMap volume
 * updates by swapping the `..data` symlink, which only the directory sees; an editor's atomic rename
 * replaces the file's inode — debounces bursts, re-reads, and also polls slowly in case an event is
 * lost (network filesystems, watch limits). Unchanged text is not reported again.
 */
export interface FileSourceOptions {
  readonly debounceMs?: number;
  readonly pollMs?: number;
}

export class FilePolicySource implements PolicySource {
  readonly name: string;
  readonly #path: string;
  readonly #log: Logger;
  readonly #debounceMs: number;
  readonly #pollMs: number;
  #watchers: FSWatcher[] = [];
  #timer: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #last: string | undefined;
  #stopped = false;

  constructor(path: string, log: Logger, options: FileSourceOptions = {}) {
    this.#path = path;
    this.name = `file ${path}`;
    this.#log = log;
    this.#debounceMs = options.debounceMs ?? 100;
    this.#pollMs = options.pollMs ?? 10_000;
  }

  /** The text the sidecar started with, so an identical first read is not reported. */
  seed(text: string): void {
    this.#last = text;
  }

  start(onText: (text: string, origin: string) => void): void {
    this.#stopped = false;
    const changed = () => this.#schedule(onText);
    this.#watchers.push(this.#watch(dirname(this.#path), changed, true));
    this.#watchFile(changed);
    this.#poll = setInterval(changed, this.#pollMs);
    this.#poll.unref();
  }

  stop(): void {
    this.#stopped = true;
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers = [];
    clearTimeout(this.#timer);
    clearInterval(this.#poll);
  }

  #watchFile(changed: () => void): void {
    try {
      const watcher = this.#watch(
        this.#path,
        () => {
          changed();
          // A rename replaced the file: watch the new inode.
          watcher.close();
          this.#watchers = this.#watchers.filter((w) => w !== watcher);
          if (!this.#stopped)
            setTimeout(() => !this.#stopped && this.#watchFile(changed), this.#debounceMs).unref();
        },
        false,
      );
      this.#watchers.push(watcher);
    } catch {
      // The file is missing right now; the directory watch and the poll notice when it appears.
    }
  }

  #watch(target: string, changed: () => void, directory: boolean): FSWatcher {
    const name = basename(this.#path);
    const watcher = watch(target, { persistent: false }, (_event, file) => {
      if (!directory || file === null || file === name || String(file).startsWith("..")) changed();
    });
    watcher.on("error", (error) =>
      this.#log.warn({ err: error, path: target }, "policy watch failed; polling continues"),
    );
    return watcher;
  }

  #schedule(onText: (text: string, origin: string) => void): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#read(onText), this.#debounceMs);
    this.#timer.unref();
  }

  async #read(onText: (text: string, origin: string) => void): Promise<void> {
    if (this.#stopped) return;
    let text: string;
    try {
      text = await readFile(this.#path, "utf8");
    } catch (error) {
      this.#log.error(
        { err: error, code: ERROR_CODES.POLICY_READ, path: this.#path },
        `cannot read the policy file ${this.#path}; keeping the last good policy`,
      );
      return;
    }
    if (text === this.#last || this.#stopped) return;
    this.#last = text;
    onText(text, this.name);
  }
}
