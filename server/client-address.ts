/**
 * Who is asking, and how they reached us: the client's IP address, scheme and host, read once per request the
 * same way for every limit and check (REST, session creation, the socket handshake, the same-origin check).
 *
 * Forwarded headers (X-Forwarded-For, -Proto, -Host) are believed only when the hop that added them is a proxy
 * named in TRUST_PROXY; otherwise anyone could pick their own address and dodge every rate limit. Addresses
 * are walked from the nearest hop outwards, and the first one that is not a trusted proxy is the client.
 */
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import proxyaddr from "proxy-addr";

/** Named ranges accepted in TRUST_PROXY besides addresses and CIDR blocks. */
export const NAMED_RANGES = ["loopback", "linklocal", "uniquelocal"] as const;

/** Compiles a TRUST_PROXY list; throws (a TypeError from proxy-addr) on an entry that is no address or range. */
export function compileTrust(trustProxy: readonly string[]): (addr: string, hop: number) => boolean {
  if (trustProxy.length === 0) return () => false;
  return proxyaddr.compile([...trustProxy]);
}

export interface ClientAddress {
  /** The client's IP address: the socket's peer, or the nearest untrusted address a trusted proxy forwarded. */
  ip(req: IncomingMessage): string;
  /** The scheme the client used: TLS on our socket, or a trusted proxy's X-Forwarded-Proto. */
  protocol(req: IncomingMessage): "http" | "https";
  /** The origin (scheme://host[:port]) the client addressed, or undefined without a usable Host. */
  origin(req: IncomingMessage): string | undefined;
  /** The trust function, for Express (`trust proxy`) so req.ip and req.protocol say the same. */
  readonly trust: (addr: string, hop: number) => boolean;
}

/** First value of a possibly repeated, comma-separated header. */
function firstValue(header: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(header) ? header[0] : header;
  const first = raw?.split(",")[0]?.trim();
  return first ? first : undefined;
}

/** "::ffff:203.0.113.7" and "203.0.113.7" are one client: keep the plain IPv4 form. */
function plain(ip: string): string {
  return /^::ffff:\d{1,3}(\.\d{1,3}){3}$/i.test(ip) ? ip.slice(7) : ip;
}

/** Reads client addresses according to `trustProxy` (empty: trust no proxy, use the socket's peer). */
export function createClientAddress(trustProxy: readonly string[]): ClientAddress {
  const trust = compileTrust(trustProxy);
  const peerTrusted = (req: IncomingMessage) => {
    const peer = req.socket?.remoteAddress;
    return peer !== undefined && trust(peer, 0);
  };
  const protocol = (req: IncomingMessage): "http" | "https" => {
    if ((req.socket as TLSSocket | undefined)?.encrypted) return "https";
    if (!peerTrusted(req)) return "http";
    const forwarded = firstValue(req.headers["x-forwarded-proto"])?.toLowerCase();
    return forwarded === "https" ? "https" : "http";
  };
  return {
    trust,
    ip(req) {
      // A socket already closed has no peer address; such a request cannot be answered anyway.
      if (req.socket?.remoteAddress === undefined) return "unknown";
      return plain(proxyaddr(req, trust));
    },
    protocol,
    origin(req) {
      const host = (peerTrusted(req) ? firstValue(req.headers["x-forwarded-host"]) : undefined) ?? req.headers.host;
      if (!host) return undefined;
      try {
        return new URL(`${protocol(req)}://${host}`).origin;
      } catch {
        return undefined;
      }
    },
  };
}
