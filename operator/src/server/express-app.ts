import express, { type Express } from "express";

/**
 * An express app as the webhook and metrics servers want it: routes match exactly (case and trailing slash), no
 * `X-Powered-By`, no ETags and no query parsing (every answer is written as it is, and no endpoint
 * reads a query).
 */
export function exactApp(): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("query parser", false);
  app.enable("case sensitive routing");
  app.enable("strict routing");
  return app;
}
