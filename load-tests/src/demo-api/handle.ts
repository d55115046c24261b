import { callerUserId } from "./auth.js";
import {
  type Parsed,
  parseAvailability,
  parseCreateAppointment,
  parseProfileUpdate,
  parseRecordPayment,
  parseServiceUpdate,
} from "./bodies.js";
import type { Database } from "./database.js";
import { clientAnalytics, revenueAnalytics } from "./queries/analytics.js";
import { serviceById, serviceCatalog } from "./queries/catalog.js";
import { ownerDashboard } from "./queries/dashboard.js";
import { userProfile } from "./queries/profile.js";
import { availableSlots } from "./queries/slots.js";
import {
  cancelAppointment,
  createAppointment,
  recordPayment,
  updateAvailability,
  updateProfile,
  updateService,
  type WriteResult,
} from "./queries/writes.js";
import type { DemoRequest } from "./routes.js";

/** What the server sends: a status and a JSON body. */
export interface Reply {
  readonly status: number;
  readonly body: unknown;
}

export interface HandleInput {
  readonly request: DemoRequest;
  readonly body: unknown;
  readonly authorization: string | undefined;
}

const error = (status: number, code: string, message: string): Reply => ({
  status,
  body: { error: { code, message } },
});
const found = (value: unknown, what: string): Reply =>
  value === undefined ? error(404, "not_found", `no ${what}`) : { status: 200, body: value };

/** Runs one routed request against the database. */
export async function handle(db: Database, input: HandleInput): Promise<Reply> {
  const { request } = input;
  switch (request.kind) {
    case "health":
      await db.query("SELECT 1");
      return { status: 200, body: { status: "ok" } };
    case "catalog":
      return { status: 200, body: await serviceCatalog(db) };
    case "service":
      return found(await serviceById(db, request.serviceId), `service ${request.serviceId}`);
    case "slots":
      return found(await availableSlots(db, request.barberId, request.date), `barber ${request.barberId}`);
    case "analytics":
      return {
        status: 200,
        body:
          request.report === "revenue"
            ? await revenueAnalytics(db, request.range)
            : await clientAnalytics(db, request.range),
      };
    case "dashboard":
      return dashboard(db, input.authorization);
    case "profile":
      return found(await userProfile(db, request.userId), `user ${request.userId}`);
    default:
      return handleWrite(db, request, input.body);
  }
}

async function dashboard(db: Database, authorization: string | undefined): Promise<Reply> {
  const userId = callerUserId(authorization);
  if (userId === undefined)
    return error(401, "unauthorized", "send Authorization: Bearer user-<id> (a barber or shop owner)");
  const [barber] = await db.query<{ shop_id: number }>("SELECT shop_id FROM barbers WHERE user_id = $1", [
    userId,
  ]);
  if (!barber)
    return error(403, "forbidden", `user ${userId} is not a barber: dashboards are for shop staff`);
  return { status: 200, body: await ownerDashboard(db, barber.shop_id) };
}

async function write<T>(parsed: Parsed<T>, run: (value: T) => Promise<WriteResult>): Promise<Reply> {
  if (!parsed.ok) return error(400, "bad_request", parsed.problems.join("; "));
  const result = await run(parsed.value);
  return result.ok
    ? { status: result.status, body: result.body }
    : error(result.status, result.status === 404 ? "not_found" : "conflict", result.message);
}

function handleWrite(db: Database, request: DemoRequest, body: unknown): Promise<Reply> {
  switch (request.kind) {
    case "create-appointment":
      return write(parseCreateAppointment(body), (value) => createAppointment(db, value));
    case "cancel-appointment":
      return write({ ok: true, value: request.appointmentId }, (id) => cancelAppointment(db, id));
    case "record-payment":
      return write(parseRecordPayment(body), (value) => recordPayment(db, value));
    case "update-availability":
      return write(parseAvailability(body), (days) => updateAvailability(db, request.barberId, days));
    case "update-profile":
      return write(parseProfileUpdate(body), (value) => updateProfile(db, request.userId, value));
    case "update-service":
      return write(parseServiceUpdate(body), (value) => updateService(db, request.serviceId, value));
    default:
      return Promise.resolve(error(500, "internal", `unhandled request ${request.kind}`));
  }
}
