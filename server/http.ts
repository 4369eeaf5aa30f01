/**
 * The HTTP side: REST endpoints for sessions and links, health checks, and the client pages, behind helmet
 * with a strict Content-Security-Policy. Handlers translate requests into service calls and results into JSON.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import express, { type NextFunction, type Request, type Response } from "express";
import helmet from "helmet";
import { type CreateSessionResponse, ErrorCode, type Seat } from "../shared/protocol.ts";
import type { ClientAddress } from "./client-address.ts";
import type { Config } from "./config.ts";
import { type AuthGuard, createCreationLimiter } from "./guard.ts";
import type { Logger } from "./log.ts";
import type { InputError, Result, SeatIdentity, SessionService } from "./service.ts";
import { assetHandler, topLevelFiles } from "./static.ts";
import type { SessionStore } from "./store/types.ts";
import type { Metrics } from "./metrics.ts";
import { bearerToken, matchesAnyKey, secretsEqual } from "./tokens.ts";
import { createSpaceRouter } from "./space-http.ts";
import { createPracticeRouter, keyTag, type PracticeService } from "./practice.ts";

export interface HttpOptions {
  config: Config;
  service: SessionService;
  store: SessionStore;
  guard: AuthGuard;
  logger: Logger;
  /** How the client's address, scheme and host are read (shared with the socket transport). */
  address: ClientAddress;
  /** Directory of the built browser client (default client/dist). */
  clientDir?: string;
  /** What GET /metrics serves (when METRICS_TOKEN is set). */
  metrics?: Metrics;
  /** Therapists' practices and standing room links (docs/practice.md). */
  practices?: PracticeService;
}

/** The package root (the folder of package.json): one level up from server/, two from the built build/server/. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return dir;
}

const DEFAULT_CLIENT_DIR = join(packageRoot(), "client", "dist") + "/";

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Attune</title></head>
<body>
<h1>Attune</h1>
<p>The server is running, but the browser client has not been built yet.</p>
<p>Run <code>npm run build</code> (or <code>npm start</code>, which builds it when needed), then reload this page.</p>
</body>
</html>
`;

function sendError(res: Response, status: number, error: InputError): void {
  const body: { code: string; message: string; field?: string } = { code: error.code, message: error.message };
  if (error.field) body.field = error.field;
  res.status(status).json({ error: body });
}

function sendResult<T>(res: Response, result: Result<T>, status: number, body: (value: T) => unknown): void {
  if (!result.ok) sendError(res, result.status, result.error);
  else res.status(status).json(body(result.value));
}

/** The origin links are built on: PUBLIC_ORIGIN when set, else the one the request came to. */
function originOf(config: Config, address: ClientAddress, req: Request): string {
  return config.publicOrigin ?? address.origin(req) ?? `${address.protocol(req)}://localhost`;
}

/** A wait in words, for people reading the refusal. */
function waitText(seconds: number): string {
  if (seconds < 60) return seconds === 1 ? "1 second" : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

function linkFor(origin: string, token: string): string {
  return `${origin}/join/${encodeURIComponent(token)}`;
}

/** Builds the Express application (not yet listening). */
export function createHttpApp({
  config,
  service,
  store,
  guard,
  logger,
  address,
  clientDir,
  metrics,
  practices,
}: HttpOptions): express.Express {
  const app = express();
  const dist = clientDir ?? DEFAULT_CLIENT_DIR;
  app.disable("x-powered-by");
  // Express's own req.ip/req.protocol follow the same trust, so nothing here can read the client differently.
  app.set("trust proxy", address.trust);
  app.set("etag", false);

  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", "data:"],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      referrerPolicy: { policy: "no-referrer" },
    }),
  );

  /** Resolves the Bearer token of a request to a seat, answering the refusal itself when there is none. */
  async function seatOf(req: Request, res: Response): Promise<SeatIdentity | undefined> {
    const ip = address.ip(req);
    if (await guard.blocked(ip)) {
      sendError(res, 429, { code: ErrorCode.RATE_LIMITED, message: "too many invalid links; wait a minute" });
      return undefined;
    }
    const token = bearerToken(req.headers.authorization);
    if (!token) {
      sendError(res, 401, {
        code: ErrorCode.TOKEN_MISSING,
        message: "send Authorization: Bearer <the token of your link>",
      });
      return undefined;
    }
    const auth = await service.authenticate(token);
    if (!auth.ok) {
      await guard.fail(ip);
      sendError(res, 401, auth.error);
      return undefined;
    }
    return auth.identity;
  }

  app.get("/healthz", (_req, res) => {
    res.json({ ok: true });
  });

  // What every page needs to know before anything happens: where the quick exit goes, and where support is.
  app.get("/api/client-config", (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    res.json({
      quickExitUrl: config.quickExitUrl,
      ...(config.supportUrl ? { supportUrl: config.supportUrl } : {}),
      // The room shows when a session would erase itself (its links expire with it).
      sessionTtlHours: config.sessionTtlMs / 3_600_000,
    });
  });

  app.get("/readyz", async (_req, res) => {
    const ok = await Promise.race([
      store.ping().catch(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000).unref()),
    ]);
    res.status(ok ? 200 : 503).json({ ok });
  });

  // Off unless METRICS_TOKEN is set; then only with that token, compared in constant time.
  app.get("/metrics", async (req, res) => {
    if (!config.metricsToken || !metrics) {
      res.status(404).type("text/plain").send("Not found");
      return;
    }
    const presented = bearerToken(req.headers.authorization);
    if (!presented || !secretsEqual(presented, config.metricsToken)) {
      logger.info({ route: "metrics" }, "metrics scrape refused");
      sendError(res, 401, { code: ErrorCode.UNAUTHORIZED, message: "send Authorization: Bearer <METRICS_TOKEN>" });
      return;
    }
    res.setHeader("Cache-Control", "no-store");
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const creations = createCreationLimiter(config.sessionsPerHour);
  const api = express.Router();
  // Counted before the body is even read, so a flooding address costs neither parsing nor store writes.
  api.post("/sessions", async (req, res, next) => {
    const verdict = await creations.take(address.ip(req));
    if (verdict.ok) return next();
    res.setHeader("Retry-After", String(verdict.retryAfterSeconds));
    sendError(res, 429, {
      code: ErrorCode.RATE_LIMITED,
      message: `too many sessions created from this address; try again in ${waitText(verdict.retryAfterSeconds)}`,
    });
  });
  api.use(express.json({ limit: "64kb", strict: true }));

  api.get("/exercises", (_req, res) => {
    res.json(service.catalogue());
  });

  api.post("/sessions", async (req, res) => {
    const body: unknown = req.body;
    const mode = body && typeof body === "object" ? (body as { mode?: unknown }).mode : undefined;
    if (mode === "therapist" && config.therapistApiKeys.length > 0) {
      const ip = address.ip(req);
      if (await guard.blocked(ip)) {
        return sendError(res, 429, { code: ErrorCode.RATE_LIMITED, message: "too many invalid keys; wait a minute" });
      }
      const key = bearerToken(req.headers.authorization);
      if (!key) {
        return sendError(res, 401, {
          code: ErrorCode.UNAUTHORIZED,
          message: "A session led by a therapist needs your practice key (Authorization: Bearer <key>).",
        });
      }
      if (!matchesAnyKey(key, config.therapistApiKeys)) {
        await guard.fail(ip);
        logger.info({ key: keyTag(key), audit: "key-refused", route: "sessions" }, "therapist key refused");
        return sendError(res, 401, { code: ErrorCode.UNAUTHORIZED, message: "That practice key wasn't recognised." });
      }
      logger.info({ key: keyTag(key), audit: "key-used", route: "sessions" }, "therapist key used");
    }
    const result = await service.createSession(body);
    const origin = originOf(config, address, req);
    sendResult(res, result, 201, (created): CreateSessionResponse => {
      const links: CreateSessionResponse["links"] = {
        a: linkFor(origin, created.tokens.a!),
        b: linkFor(origin, created.tokens.b!),
      };
      if (created.tokens.therapist) links.therapist = linkFor(origin, created.tokens.therapist);
      return { id: created.id, links, expiresAt: created.expiresAt };
    });
  });

  api.post("/sessions/:id/links/:seat/revoke", async (req, res) => {
    const by = await seatOf(req, res);
    if (!by) return;
    const result = await service.revokeSeat(by, String(req.params.id), req.params.seat);
    sendResult(res, result, 200, (v) => ({ ok: true, seat: v.seat }));
  });

  api.post("/sessions/:id/links/:seat", async (req, res) => {
    const by = await seatOf(req, res);
    if (!by) return;
    const result = await service.reissueSeat(by, String(req.params.id), req.params.seat);
    const origin = originOf(config, address, req);
    sendResult(res, result, 201, (v) => ({ seat: v.seat as Seat, link: linkFor(origin, v.token) }));
  });

  // Who lets this partner in: the therapist's name for the waiting room, and nothing else of the session.
  api.get("/session/waiting-room", async (req, res) => {
    const by = await seatOf(req, res);
    if (!by) return;
    const name = await service.therapistName(by.sessionId);
    if (name === undefined) {
      return sendError(res, 404, { code: ErrorCode.SESSION_NOT_FOUND, message: "this session has ended" });
    }
    res.setHeader("Cache-Control", "no-store");
    res.json({ therapistName: name });
  });

  // The therapist took the session record away (it is built in their browser): only the fact is kept, in the log.
  api.post("/sessions/:id/record-exported", async (req, res) => {
    const by = await seatOf(req, res);
    if (!by) return;
    if (by.sessionId !== String(req.params.id) || by.seat !== "therapist") {
      return sendError(res, 403, { code: ErrorCode.THERAPIST_ONLY, message: "only the therapist exports the record" });
    }
    logger.info({ session: by.sessionId, by: by.seat, audit: "export" }, "record exported");
    res.json({ ok: true });
  });

  api.delete("/sessions/:id", async (req, res) => {
    const by = await seatOf(req, res);
    if (!by) return;
    const result = await service.erase(by, String(req.params.id));
    sendResult(res, result, 200, (v) => ({ ok: true, id: v.id }));
  });

  // The couples' spaces (issue 15): see server/space-http.ts and docs/space.md.
  api.use(
    "/spaces",
    createSpaceRouter({ config, store, guard, address, logger, originOf: (req) => originOf(config, address, req) }),
  );

  api.use((_req, res) => {
    sendError(res, 404, { code: ErrorCode.INVALID_COMMAND, message: "no such endpoint" });
  });

  if (practices) app.use("/api", createPracticeRouter({ config, practices, guard, address, logger }));
  app.use("/api", api);

  const sendIndex = (_req: Request, res: Response) => {
    res.setHeader("Cache-Control", "no-store");
    const index = `${dist}index.html`;
    if (existsSync(index)) res.sendFile(index);
    else res.type("html").send(NOT_BUILT_PAGE);
  };
  // The token in /join/<token> is read by the client script; the page itself is the same for every seat.
  app.get("/join/:token", sendIndex);
  // A space link: /space/<token>#<key>; the key in the fragment never reaches the server.
  app.get(["/space", "/space/:token"], sendIndex);
  // A therapist's practice link and a practice's standing room link: the same page, read by the client script.
  app.get(["/practice", "/practice/:token", "/wait/:token", "/waiting"], sendIndex);
  app.get(["/", "/room", "/index.html"], sendIndex);
  app.use("/assets", assetHandler(dist));
  app.use(topLevelFiles(dist));

  app.use((_req, res) => {
    res.status(404).type("text/plain").send("Not found");
  });

  // Express needs all four parameters to treat this as the error handler.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number; message?: string };
    if (e?.type === "entity.too.large") {
      return sendError(res, 413, { code: ErrorCode.INVALID_COMMAND, message: "the body is over 64 KB", field: "body" });
    }
    if (e?.type === "entity.parse.failed") {
      return sendError(res, 400, {
        code: ErrorCode.INVALID_COMMAND,
        message: "the body is not valid JSON",
        field: "body",
      });
    }
    if (e?.status && e.status >= 400 && e.status < 500) {
      return sendError(res, e.status, { code: ErrorCode.INVALID_COMMAND, message: "the request could not be read" });
    }
    logger.error({ err: e?.message }, "request failed");
    sendError(res, 500, { code: ErrorCode.INTERNAL, message: "something went wrong on the server" });
  });

  return app;
}
