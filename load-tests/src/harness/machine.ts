import { cpus, loadavg, totalmem } from "node:os";

/** One line about the machine a run measured on: cores, CPU model, memory, Node, load at the start. */
export function describeMachine(): string {
  const cpu = cpus();
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(", ");
  return `${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, load average at start ${load}`;
}
