import { pino } from "pino";
import { DEMO_API_USAGE, parseDemoApiConfig } from "./config.js";
import { openDemoDatabase } from "./open-database.js";
import { startDemoApi } from "./server.js";
import { SIZES } from "./sizes.js";

// The demo booking API: `npx tsx load-tests/src/demo-api/main.ts --listen 127.0.0.1:8080 --size small`.
// Logs JSON lines on stdout; the line with msg "demo API listening" carries the URL (the harness reads it).
const parsed = parseDemoApiConfig(process.argv.slice(2), process.env);
if (!parsed.ok) {
  if (parsed.help) {
    console.log(DEMO_API_USAGE);
    process.exit(0);
  }
  console.error(`demo-api: ${parsed.problems.join("\n  ")}\n\n${DEMO_API_USAGE}`);
  process.exit(2);
}
const config = parsed.config;
const log = pino({ name: "demo-api", level: config.logLevel });
const size = SIZES[config.size];

if (config.prepareOnly) {
  const opened = await openDemoDatabase({
    size,
    cacheDir: config.cacheDir,
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
    progress: (message, fields) => log.info({ ...fields }, message),
  });
  log.info({ size: size.name, source: opened.source, millis: opened.millis }, "demo dataset ready");
  await opened.db.close();
  process.exit(0);
}

const api = await startDemoApi({
  host: config.host,
  port: config.port,
  size,
  cacheDir: config.cacheDir,
  ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
  logger: log,
});
log.info(
  { url: api.url, size: size.name, db: api.db.kind, source: api.source, loadMillis: api.loadMillis },
  "demo API listening",
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    api.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
