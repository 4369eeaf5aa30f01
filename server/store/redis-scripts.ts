/**
 * What RedisStore's session scripts and the space scripts share: how a script is defined on node-redis, and the
 * capability-link scripts. A session's seat links and a space's partner links are kept alike — a links hash
 * mapping each holder to its token hash (`<holder>` → hash, `tok:<hash>` → holder, `rev:<hash>` → 1 once
 * revoked) beside the owner's record, which must exist — so one set of scripts serves both.
 */
import { defineScript } from "redis";
import type { CommandParser } from "redis";

function pushAll(parser: CommandParser, keys: string[], args: string[]): void {
  parser.pushKeysLength(keys);
  for (const arg of args) parser.push(arg);
}

/** A Lua script called with (keys, args) whose reply is typed `T`. */
export function script<T>(source: string) {
  return defineScript({
    SCRIPT: source,
    parseCommand: pushAll,
    transformReply: undefined as unknown as () => T,
  });
}

/** KEYS: owner record, links; ARGV: token hash. The holder and the revoked flag, or nil when the owner is gone. */
export const FIND_LINK = `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('HMGET', KEYS[2], 'tok:' .. ARGV[1], 'rev:' .. ARGV[1])
`;

/** KEYS: owner record, links; ARGV: holder. The token stays listed, flagged, so a revoked link tells itself apart from an unknown one. */
export const REVOKE_LINK = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local hash = redis.call('HGET', KEYS[2], ARGV[1])
if not hash then return 0 end
redis.call('HSET', KEYS[2], 'rev:' .. hash, '1')
return 1
`;

/** KEYS: owner record, links; ARGV: holder, new token hash. The previous token is revoked (it keeps answering so). */
export const REISSUE_LINK = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local previous = redis.call('HGET', KEYS[2], ARGV[1])
if not previous then return 0 end
if redis.call('HEXISTS', KEYS[2], 'tok:' .. ARGV[2]) == 1 then return -1 end
redis.call('HSET', KEYS[2], 'rev:' .. previous, '1', ARGV[1], ARGV[2], 'tok:' .. ARGV[2], ARGV[1])
return 1
`;
