/**
 * Where policy texts come from after startup. A source calls `onText` with the full manifest text
 * whenever it may have changed (duplicates are fine: the holder ignores an unchanged hash).
 */
export interface PolicySource {
  /** A short description for logs, e.g. "file /etc/apicache/policy.yaml". */
  readonly name: string;
  start(onText: (text: string, origin: string) => void): void;
  stop(): void;
}
