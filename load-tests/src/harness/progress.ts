/**
 * Progress lines on stderr: rewritten in place on a terminal, throttled to one line every few seconds
 * otherwise (CI logs). `final` lines always print.
 */
export function createProgress(
  stream: NodeJS.WriteStream = process.stderr,
): (line: string, final?: boolean) => void {
  const tty = stream.isTTY === true;
  let last = 0;
  return (line, final = false) => {
    if (tty) {
      stream.write(`\r\x1b[2K${line}${final ? "\n" : ""}`);
      return;
    }
    const now = Date.now();
    if (!final && now - last < 5000) return;
    last = now;
    stream.write(`${line}\n`);
  };
}
