/**
 * The browser-origin check of the socket endpoint, answered the same way on both transports: a polling request
 * and a websocket upgrade from a foreign Origin both get 403 {"code":4,"message":"ORIGIN_NOT_ALLOWED"}.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { ClientAddress } from "./client-address.ts";
import type { Config } from "./config.ts";

/** The refusal's message, as Engine.IO puts it in its polling answer and as docs/protocol.md documents it. */
export const ORIGIN_NOT_ALLOWED = "ORIGIN_NOT_ALLOWED";
/** Engine.IO's error code for a request its allowRequest hook refused ("Forbidden"). */
const ENGINE_FORBIDDEN = 4;

/** The origin in canonical form (lower-case host, default port dropped), or undefined when it is none. */
function canonical(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    return url.protocol === "http:" || url.protocol === "https:" ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when a browser at the request's Origin may open a socket. No Origin header: a non-browser client
 * (it still needs a token). With ALLOWED_ORIGINS set only those (and PUBLIC_ORIGIN) pass; otherwise the Origin
 * must be exactly the origin the request reached, scheme included (an https page may not talk to an http
 * server, nor the other way round), as seen through a trusted proxy.
 */
export function originAllowed(config: Config, address: ClientAddress, req: IncomingMessage): boolean {
  const header = req.headers.origin;
  if (header === undefined) return true;
  const origin = typeof header === "string" ? canonical(header) : undefined;
  if (origin === undefined) return false;
  if (config.allowedOrigins.includes(origin)) return true;
  if (config.publicOrigin === origin) return true;
  if (config.allowedOrigins.length > 0) return false;
  return address.origin(req) === origin;
}

/** The HTTP answer to a refused websocket upgrade, byte for byte what a refused polling request gets. */
export function originRefusal(): string {
  const body = JSON.stringify({ code: ENGINE_FORBIDDEN, message: ORIGIN_NOT_ALLOWED });
  return [
    "HTTP/1.1 403 Forbidden",
    "Connection: close",
    "Content-Type: application/json",
    `Content-Length: ${Buffer.byteLength(body)}`,
    "",
    body,
  ].join("\r\n");
}

/** The part of an Engine.IO server this module needs. */
interface UpgradeHandler {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/**
 * Puts the origin check in front of Engine.IO's websocket upgrades. Engine.IO answers a refused upgrade with its
 * own `400 text/html`, whatever the reason; answering here first gives the documented 403 JSON instead. Its
 * allowRequest hook still runs behind this for the requests let through, so both transports share one rule.
 */
export function refuseForeignUpgrades(engine: UpgradeHandler, allowed: (req: IncomingMessage) => boolean): void {
  const handleUpgrade = engine.handleUpgrade.bind(engine);
  engine.handleUpgrade = (req, socket, head) => {
    if (allowed(req)) {
      handleUpgrade(req, socket, head);
      return;
    }
    socket.on("error", () => {});
    if (socket.writable) socket.end(originRefusal());
    else socket.destroy();
  };
}
