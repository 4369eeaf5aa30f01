/**
 * Slows down token guessing: every failed token presentation (socket handshake or REST) costs the caller's IP
 * a point; once an IP has spent its points for the minute it is refused before any lookup.
 * Also caps how many sessions one IP may create per hour, so nobody can fill memory or Redis with sessions.
 */
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

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

/** The verdict on one session-creation attempt. */
export type CreationVerdict = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface CreationLimiter {
  /** Counts one session-creation attempt from `ip`; refused (with the wait in seconds) once its hour is spent. */
  take(ip: string): Promise<CreationVerdict>;
}

/**
 * An in-memory, per-process limiter allowing `perHour` session creations per IP. Per process is enough to stop
 * one address flooding a process's memory or the shared Redis; N processes admit at most N times the limit.
 */
export function createCreationLimiter(perHour: number): CreationLimiter {
  const limiter = new RateLimiterMemory({ points: perHour, duration: 3600 });
  return {
    async take(ip) {
      try {
        await limiter.consume(ip);
        return { ok: true };
      } catch (rejected) {
        // The memory limiter rejects with a RateLimiterRes when the points are spent; anything else is a bug.
        if (rejected instanceof RateLimiterRes) {
          return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(rejected.msBeforeNext / 1000)) };
        }
        throw rejected;
      }
    },
  };
}
