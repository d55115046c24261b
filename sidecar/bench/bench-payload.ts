/** The response body of the benchmark: slot-like JSON of about `bytes` bytes (same for every server). */
export function benchPayload(bytes: number): {
  barber: number;
  date: string;
  slots: { at: string; free: boolean }[];
} {
  const slots: { at: string; free: boolean }[] = [];
  const payload = { barber: 7, date: "2025-01-15", slots };
  let i = 0;
  while (JSON.stringify(payload).length < bytes) {
    const minutes = 9 * 60 + i * 15;
    const at = `${String(Math.floor(minutes / 60) % 24).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;
    slots.push({ at, free: i % 3 !== 0 });
    i++;
  }
  return payload;
}
