import { IncomingMessage, ServerResponse } from "node:http";
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

/**
 * The request and response classes for the node:http(s) server that serves `app`
 * (`createServer({ ...appMessages(app) }, app)`): what they build already has the app's prototypes.
 *
 * Why: express gives every request and response its app's prototype with `Object.setPrototypeOf`. V8
 * then keeps much of each request's short-lived state alive through two young-generation collections,
 * into the old generation (about 14 KB per AdmissionReview, 0 without the swap). Under the chart's heap
 * ceiling (ADR 0017) that filled the old generation every few thousand reviews, and marking the ~100
 * MiB live heap each time stalled the webhook by up to 140 ms (ADR 0036). With the prototype already
 * in place, `setPrototypeOf` changes nothing.
 */
export function appMessages(app: Express): {
  IncomingMessage: typeof IncomingMessage;
  ServerResponse: typeof ServerResponse;
} {
  return {
    IncomingMessage: withPrototype(IncomingMessage, app.request),
    ServerResponse: withPrototype(ServerResponse, app.response),
  };
}

/**
 * A constructor that runs `base` on an object of `prototype`: a plain function that calls `base`
 * (node's IncomingMessage and ServerResponse are plain functions). Not Reflect.construct with a
 * foreign new.target: V8 then gives every object it builds a hidden class of its own, one more dead
 * map per request in the old generation.
 */
function withPrototype<T extends new (...args: never[]) => object>(base: T, prototype: object): T {
  // A Node whose IncomingMessage or ServerResponse is a class could not be called so: fail at start-up,
  // not on every request.
  if (/^class\b/.test(Function.prototype.toString.call(base)))
    throw new Error(
      `appMessages: node's ${base.name} is a class here; build the servers without appMessages`,
    );
  const call = base as unknown as (this: object, ...args: unknown[]) => void;
  function Built(this: object, ...args: unknown[]): void {
    call.apply(this, args);
  }
  Built.prototype = prototype;
  return Built as unknown as T;
}
