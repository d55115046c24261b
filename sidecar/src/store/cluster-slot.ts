/**
 * Redis Cluster hash slots, computed here (pure) so that a key can be built to live in the same slot
 * as another: CRC16/XMODEM of the key (or of its hash tag, the text between the first `{` and the
 * first `}` after it, when that text is not empty), modulo 16384 — the Redis Cluster specification.
 */
export const SLOT_COUNT = 16_384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

export function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = step(crc, byte);
  return crc;
}

function step(crc: number, byte: number): number {
  return ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ byte) & 0xff] as number);
}

/** The CRC of an ASCII string (its bytes are its char codes), without allocating a Buffer. */
function asciiCrc16(text: string): number {
  let crc = 0;
  for (let i = 0; i < text.length; i++) crc = step(crc, text.charCodeAt(i));
  return crc;
}

/** The part of a key Redis hashes: its hash tag when it has a non-empty one, else all of it. */
export function hashedPart(key: string): string {
  const open = key.indexOf("{");
  if (open === -1) return key;
  const close = key.indexOf("}", open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

export function keySlot(key: string): number {
  return crc16(Buffer.from(hashedPart(key), "utf8")) % SLOT_COUNT;
}

let tags: string[] | undefined;

/**
 * A short hash tag for every slot: `{<slotTag(s)>}` in a key puts it in slot s. Built once, on first
 * use, by hashing base-36 counters until every slot has one (about 170,000 CRCs, a few milliseconds:
 * the coordination asks for one at start-up, so that no request waits for it).
 */
export function slotTag(slot: number): string {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT) throw new RangeError(`no slot ${slot}`);
  if (tags === undefined) {
    const found: (string | undefined)[] = new Array(SLOT_COUNT);
    let missing = SLOT_COUNT;
    for (let n = 0; missing > 0; n++) {
      const candidate = n.toString(36);
      const s = asciiCrc16(candidate) % SLOT_COUNT;
      if (found[s] === undefined) {
        found[s] = candidate;
        missing--;
      }
    }
    tags = found as string[];
  }
  return tags[slot] as string;
}
