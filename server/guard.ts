/**
 * Slows down token guessing: every failed token presentation (socket handshake or REST) costs the caller's IP
 * a point; once an IP has spent its points for the minute it is refused before any lookup.
 */
import { RateLimiterMemory } from "rate-limiter-flexible";

export interface AuthGuard {
  /** True when `ip` has failed too often recently. */
  blocked(ip: string): Promise<boolean>;
  /** Records one failed attempt from `ip`. */
  fail(ip: string): Promise<void>;
}

/** An in-memory guard allowing `failuresPerMinute` failures per IP (memory is enough: guessing 126 bits is hopeless). */
export function createAuthGuard(failuresPerMinute: number): AuthGuard {
  const limiter = new RateLimiterMemory({ points: failuresPerMinute, duration: 60 });
  return {
    async blocked(ip) {
      const res = await limiter.get(ip);
      return res !== null && res.consumedPoints >= failuresPerMinute;
    },
    async fail(ip) {
      await limiter.consume(ip).catch(() => {});
    },
  };
}
