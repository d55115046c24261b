/**
 * HTTP-date parsing (RFC 9110 §5.6.7). Pure. A recipient accepts all three formats:
 *
 *   IMF-fixdate  Sun, 06 Nov 1994 08:49:37 GMT       the one senders generate
 *   rfc850-date  Sunday, 06-Nov-94 08:49:37 GMT      obsolete; two-digit year
 *   asctime-date Sun Nov  6 08:49:37 1994            obsolete; no zone (GMT)
 *
 * Anything else — another zone ("UTC", "AEST"), a missing comma, doubled spaces, a one-digit hour, a
 * two-digit year in the IMF form, a day the month does not have — is not an HTTP-date: the caller
 * decides what an invalid date means (for Expires: already expired, RFC 9111 §5.3). Letter case is not
 * significant: a lowercase or uppercase day, month or zone name is read like the canonical one.
 * https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7
 */
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAY = "(?:mon|tue|wed|thu|fri|sat|sun)";
const DAY_LONG = "(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)";
const MONTH = `(${MONTHS.join("|")})`;
const TIME = "(\\d{2}):(\\d{2}):(\\d{2})";

const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} gmt$`, "i");
const RFC850_DATE = new RegExp(`^${DAY_LONG}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} gmt$`, "i");
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`, "i");

/** Milliseconds since the epoch, or undefined when `text` is not an HTTP-date. */
export function parseHttpDate(text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined;
  const value = text.trim();
  let match = IMF_FIXDATE.exec(value);
  if (match) return at(Number(match[3]), match[2], match[1], match.slice(4, 7));
  match = RFC850_DATE.exec(value);
  if (match) return at(fullYear(Number(match[3]), now), match[2], match[1], match.slice(4, 7));
  match = ASCTIME_DATE.exec(value);
  if (match) return at(Number(match[6]), match[1], match[2], match.slice(3, 6));
  return undefined;
}

/**
 * RFC 9110 §5.6.7: a two-digit year that would be more than 50 years in the future is the most recent
 * past year with the same last two digits.
 */
function fullYear(twoDigits: number, now: number): number {
  const current = new Date(now).getUTCFullYear();
  let year = Math.floor(current / 100) * 100 + twoDigits;
  if (year > current + 50) year -= 100;
  return year;
}

function at(
  year: number,
  month: string | undefined,
  day: string | undefined,
  time: string[],
): number | undefined {
  const monthIndex = MONTHS.indexOf((month ?? "").toLowerCase());
  const [hours, minutes, seconds] = time.map(Number) as [number, number, number];
  const dayOfMonth = Number((day ?? "").trim());
  if (hours > 23 || minutes > 59 || seconds > 60) return undefined;
  const ms = Date.UTC(year, monthIndex, dayOfMonth, hours, minutes, Math.min(seconds, 59));
  const date = new Date(ms);
  // Date.UTC rolls 31 Feb over into March: such a date is invalid, not another day.
  if (date.getUTCMonth() !== monthIndex || date.getUTCDate() !== dayOfMonth) return undefined;
  return year < 100 ? undefined : ms;
}
