/**
 * Structured logs (pino). What may be logged is decided at each call site: ids, seats, command types, codes,
 * versions and durations. Message text, answers and tokens never reach a logger; the redaction below is a
 * second line of defence for fields that might carry them by mistake.
 */
import { pino } from "pino";
import type { DestinationStream, Logger } from "pino";
import type { LogLevel } from "./config.ts";

export type { Logger };

const REDACT = [
  "token",
  "*.token",
  "text",
  "*.text",
  "answer",
  "*.answer",
  "authorization",
  "*.authorization",
  "req.headers.authorization",
];

/** A JSON logger at `level`, writing to stdout or to `destination` (tests capture it). */
export function createLogger(level: LogLevel = "info", destination?: DestinationStream): Logger {
  return pino({ level, base: { app: "attune" }, redact: { paths: REDACT, censor: "[redacted]" } }, destination);
}

/** A logger that writes nothing (tests that do not look at logs). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
