/**
 * REST for the couples' spaces, mounted at /api/spaces (see docs/space.md):
 *   POST   /api/spaces                          → 201 { id, links: { a, b }, expiresAt }   (SPACES_PER_HOUR)
 *   GET    /api/spaces/:id                      → 200 SpaceView (renews the time-to-live)
 *   POST   /api/spaces/:id/entries              → 201 { id, stored: true } | 200 { id, stored: false }
 *   POST   /api/spaces/:id/links/:partner/revoke → 200 (your own link only)
 *   POST   /api/spaces/:id/links/:partner       → 201 { partner, link } (a fresh link; the old one stops working)
 *   DELETE /api/spaces/:id                      → 200 (erases the space for both)
 * Every call but creation presents a partner's token as `Authorization: Bearer`; failed presentations count
 * against the same per-address limit as seat links. Nothing here logs a token or an entry.
 */
import express, { type Request, type Response } from "express";
import type { CreateSpaceResponse } from "../shared/space-protocol.ts";
import type { ClientAddress } from "./client-address.ts";
import type { Config } from "./config.ts";
import { type AuthGuard, createCreationLimiter } from "./guard.ts";
import type { Logger } from "./log.ts";
import { type SpaceIdentity, type SpaceResult, SpaceService } from "./spaces.ts";
import type { SessionStore } from "./store/types.ts";
import { bearerToken } from "./tokens.ts";

export interface SpaceHttpOptions {
  config: Config;
  store: SessionStore;
  guard: AuthGuard;
  address: ClientAddress;
  logger: Logger;
  /** The origin the links are built on, for this request. */
  originOf: (req: Request) => string;
}

/** A partner's space link without its key; the browser appends `#<key>` (the fragment never reaches a server). */
export function spaceLinkFor(origin: string, token: string): string {
  return `${origin}/space/${encodeURIComponent(token)}`;
}

function send<T>(res: Response, result: SpaceResult<T>, status: number, body: (value: T) => unknown): void {
  res.setHeader("Cache-Control", "no-store");
  if (!result.ok) res.status(result.status).json({ error: result.error });
  else res.status(status).json(body(result.value));
}

function waitText(seconds: number): string {
  if (seconds < 60) return seconds === 1 ? "1 second" : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

export function createSpaceRouter({ config, store, guard, address, logger, originOf }: SpaceHttpOptions) {
  const service = new SpaceService({ spaces: store.spaces(), ttlMs: config.spaceTtlMs });
  const creations = createCreationLimiter(config.spacesPerHour);
  const router = express.Router();

  /** The partner whose token the request bears, for space `:id`; answers the refusal itself when there is none. */
  async function partnerOf(req: Request, res: Response): Promise<SpaceIdentity | undefined> {
    const ip = address.ip(req);
    if (await guard.blocked(ip)) {
      res.status(429).json({ error: { code: "RATE_LIMITED", message: "too many invalid links; wait a minute" } });
      return undefined;
    }
    const result = await service.authenticate(bearerToken(req.headers.authorization), String(req.params.id));
    if (!result.ok) {
      if (result.error.code !== "TOKEN_MISSING") await guard.fail(ip);
      send(res, result, 0, () => null);
      return undefined;
    }
    return result.value;
  }

  router.post("/", async (req, res) => {
    const verdict = await creations.take(address.ip(req));
    if (!verdict.ok) {
      res.setHeader("Retry-After", String(verdict.retryAfterSeconds));
      res.status(429).json({
        error: {
          code: "RATE_LIMITED",
          message: `too many spaces created from this address; try again in ${waitText(verdict.retryAfterSeconds)}`,
        },
      });
      return;
    }
    const created = await service.create();
    const origin = originOf(req);
    logger.info({ route: "space-create" }, "space created");
    const body: CreateSpaceResponse = {
      id: created.id,
      links: { a: spaceLinkFor(origin, created.tokens.a), b: spaceLinkFor(origin, created.tokens.b) },
      expiresAt: created.expiresAt,
    };
    res.setHeader("Cache-Control", "no-store");
    res.status(201).json(body);
  });

  router.get("/:id", async (req, res) => {
    const who = await partnerOf(req, res);
    if (!who) return;
    send(res, await service.view(who), 200, (v) => v);
  });

  router.post("/:id/entries", async (req, res) => {
    const who = await partnerOf(req, res);
    if (!who) return;
    const result = await service.append(who, req.body);
    if (result.ok) send(res, result, result.value.stored ? 201 : 200, (v) => v);
    else send(res, result, 0, () => null);
  });

  router.post("/:id/links/:partner/revoke", async (req, res) => {
    const who = await partnerOf(req, res);
    if (!who) return;
    send(res, await service.revoke(who, String(req.params.partner)), 200, (v) => ({ ok: true, partner: v.partner }));
  });

  router.post("/:id/links/:partner", async (req, res) => {
    const who = await partnerOf(req, res);
    if (!who) return;
    const origin = originOf(req);
    send(res, await service.reissue(who, String(req.params.partner)), 201, (v) => ({
      partner: v.partner,
      link: spaceLinkFor(origin, v.token),
    }));
  });

  router.delete("/:id", async (req, res) => {
    const who = await partnerOf(req, res);
    if (!who) return;
    const result = await service.erase(who);
    logger.info({ route: "space-erase" }, "space erased");
    send(res, result, 200, (v) => ({ ok: true, id: v.id }));
  });

  return router;
}
