/**
 * The key exchange of the standing waiting room (shared/key-exchange.ts): a waiting page's key pair, kept in its
 * tab as a JWK and restored; a seat's key fragment wrapped by the console to that page's public key and opened only
 * by that page's private key, in the same waiting place and seat; everything else refused with a clear error; and
 * the privacy code both screens can show.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  generateWaitingKeyPair,
  importPublicKey,
  isPublicKey,
  isPublicKeyText,
  isWrappedKeys,
  keepPrivateKey,
  privacyCode,
  restorePrivateKey,
  unwrapSeatKeys,
  waitContext,
  WRAPPED_FRAGMENT_MAX,
  WRAPPED_KEYS_MAX,
  wrapSeatKeys,
} from "../../shared/key-exchange.ts";
import { generateSessionKeys, keyFragmentFor, readKeyFragment } from "../../shared/session-crypto.ts";
import { cryptoFailure } from "../support/crypto-failure.ts";

const PLACE = { waitingId: "w-0123456789", seat: "a" as const };

describe("a waiting page's key pair", () => {
  it("has a raw P-256 public key in base64url, and a private key kept as a JWK and restored", async () => {
    const pair = await generateWaitingKeyPair();
    expect(pair.publicKey).toMatch(/^B[A-Za-z0-9_-]{86}$/);
    expect(isPublicKeyText(pair.publicKey)).toBe(true);
    expect(await isPublicKey(pair.publicKey)).toBe(true);
    const jwk = await keepPrivateKey(pair.privateKey);
    // Kept as JSON in sessionStorage: it must survive a round trip through a string.
    const restored = await restorePrivateKey(JSON.parse(JSON.stringify(jwk)));
    expect(restored.extractable).toBe(false);
    const keys = await generateSessionKeys();
    const fragment = keyFragmentFor(keys, "a", "therapist");
    const wrapped = await wrapSeatKeys(pair.publicKey, fragment, PLACE);
    expect(await unwrapSeatKeys({ privateKey: restored, publicKey: pair.publicKey }, wrapped, PLACE)).toBe(fragment);
  });

  it("refuses a kept key that is missing or damaged, in words", async () => {
    for (const jwk of [null, "text", {}, { kty: "EC", crv: "P-256" }, { kty: "RSA", d: "x" }]) {
      const err = await cryptoFailure(restorePrivateKey(jwk));
      expect(err.problem).toBe("key");
      expect(err.message).toBe("the key this page kept for your session is missing or damaged");
    }
    const jwk = await keepPrivateKey((await generateWaitingKeyPair()).privateKey);
    expect((await cryptoFailure(restorePrivateKey({ ...jwk, d: "AAAA" }))).problem).toBe("key");
  });

  it("refuses public keys of the wrong shape, length or curve point", async () => {
    const good = (await generateWaitingKeyPair()).publicKey;
    const notOnCurve = `B${"A".repeat(86)}`;
    for (const text of [undefined, 7, "", good.slice(1), `${good}A`, `A${good.slice(1)}`, `${good.slice(0, -1)}*`]) {
      expect(isPublicKeyText(text), String(text)).toBe(false);
      expect(await isPublicKey(text)).toBe(false);
    }
    expect(isPublicKeyText(notOnCurve)).toBe(true);
    expect(await isPublicKey(notOnCurve)).toBe(false);
    expect((await cryptoFailure(importPublicKey(notOnCurve))).message).toBe("this is not a waiting page's public key");
  });
});

describe("wrapping a seat's keys for a waiting page", () => {
  it("round-trips the fragment a link would carry, in the x1.<ephemeral>.<iv>.<ct> form, fresh each time", async () => {
    const pair = await generateWaitingKeyPair();
    const keys = await generateSessionKeys();
    const fragment = keyFragmentFor(keys, "b", "therapist");
    const place = { waitingId: "w-b", seat: "b" as const };
    const one = await wrapSeatKeys(pair.publicKey, fragment, place);
    const two = await wrapSeatKeys(pair.publicKey, fragment, place);
    expect(one).toMatch(/^x1\.B[A-Za-z0-9_-]{86}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(isWrappedKeys(one)).toBe(true);
    expect(one).not.toBe(two);
    expect(one.split(".")[1]).not.toBe(two.split(".")[1]);
    // Nothing of the keys shows in the wrapped string.
    expect(one).not.toContain(keys.conversation.text);
    expect(one).not.toContain(keys.private.b.text);
    const opened = await unwrapSeatKeys(pair, one, place);
    expect(opened).toBe(fragment);
    const read = await readKeyFragment(opened);
    expect(read.conversation?.text).toBe(keys.conversation.text);
    expect(read.private.b?.text).toBe(keys.private.b.text);
    expect(read.private.a).toBeUndefined();
    expect(read.notes).toBeUndefined();
    expect(await unwrapSeatKeys(pair, two, place)).toBe(fragment);
  });

  it("does not open with another page's private key: each partner opens their own, not the other's", async () => {
    const robin = await generateWaitingKeyPair();
    const kai = await generateWaitingKeyPair();
    const keys = await generateSessionKeys();
    const forRobin = await wrapSeatKeys(robin.publicKey, keyFragmentFor(keys, "a", "therapist"), PLACE);
    const err = await cryptoFailure(unwrapSeatKeys(kai, forRobin, PLACE));
    expect(err.problem).toBe("unreadable");
    expect(err.message).toBe(
      "the keys for your session cannot be opened on this page: they were made for another page, or changed on the way",
    );
    // Kai's private key with Robin's public key claimed as their own does not open it either.
    expect((await cryptoFailure(unwrapSeatKeys({ ...kai, publicKey: robin.publicKey }, forRobin, PLACE))).problem).toBe(
      "unreadable",
    );
  });

  it("does not open when altered, or for another waiting place or seat", async () => {
    const pair = await generateWaitingKeyPair();
    const wrapped = await wrapSeatKeys(pair.publicKey, "k=abc&pa=def", PLACE);
    const [prefix, ephemeral, iv, ct] = wrapped.split(".") as [string, string, string, string];
    const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === "A" ? "B" : "A") + s.slice(at + 1);
    const altered = [
      [prefix, ephemeral, iv, flip(ct, 3)].join("."),
      [prefix, ephemeral, flip(iv, 2), ct].join("."),
      [prefix, ephemeral, iv, `${ct.slice(0, -4)}${ct.slice(-4) === "AAAA" ? "BBBB" : "AAAA"}`].join("."),
    ];
    for (const text of altered)
      expect((await cryptoFailure(unwrapSeatKeys(pair, text, PLACE))).problem).toBe("unreadable");
    // Another ephemeral key (a valid point): the derived key differs.
    const other = (await generateWaitingKeyPair()).publicKey;
    expect((await cryptoFailure(unwrapSeatKeys(pair, [prefix, other, iv, ct].join("."), PLACE))).problem).toBe(
      "unreadable",
    );
    for (const place of [
      { waitingId: "w-another", seat: "a" as const },
      { waitingId: PLACE.waitingId, seat: "b" as const },
    ]) {
      expect((await cryptoFailure(unwrapSeatKeys(pair, wrapped, place))).problem).toBe("unreadable");
    }
    expect(waitContext(PLACE)).toBe("attune.wait/v1|w-0123456789|a");
  });

  it("refuses a malformed string with a clear error before any cryptography", async () => {
    const pair = await generateWaitingKeyPair();
    const wrapped = await wrapSeatKeys(pair.publicKey, "k=abc", PLACE);
    const [, ephemeral, iv, ct] = wrapped.split(".") as [string, string, string, string];
    const malformed = [
      undefined,
      42,
      "",
      "e1.abc.def",
      wrapped.replace(/^x1\./, "x2."),
      `x1.${ephemeral}.${iv}`,
      `x1.${ephemeral}.${iv.slice(1)}.${ct}`,
      `x1.${ephemeral}.${iv}.${ct.slice(0, 10)}`,
      `x1.${ephemeral}.${iv}.${ct}!`,
      `x1.${ephemeral}.${iv}.${"A".repeat(WRAPPED_KEYS_MAX)}`,
      // The right form, but the ephemeral key is no point on the curve.
      `x1.B${"A".repeat(86)}.${iv}.${ct}`,
    ];
    for (const text of malformed) {
      const err = await cryptoFailure(unwrapSeatKeys(pair, text, PLACE));
      expect(err.problem, String(text)).toBe("malformed");
      expect(err.message).toBe("the keys for your session arrived in a form Attune cannot read");
    }
    expect((await cryptoFailure(wrapSeatKeys("not-a-key", "k=abc", PLACE))).problem).toBe("key");
    expect((await cryptoFailure(wrapSeatKeys(pair.publicKey, "", PLACE))).problem).toBe("malformed");
    expect(
      (await cryptoFailure(wrapSeatKeys(pair.publicKey, "k".repeat(WRAPPED_FRAGMENT_MAX + 1), PLACE))).problem,
    ).toBe("malformed");
  });

  it("round-trips any fragment text up to the bound, and every wrapped string has the checked form", async () => {
    const pair = await generateWaitingKeyPair();
    await fc.assert(
      fc.asyncProperty(
        // Any code points (not only the ASCII of a real fragment), as long as their UTF-8 fits the bound.
        fc
          .string({ minLength: 1, maxLength: WRAPPED_FRAGMENT_MAX, unit: "binary" })
          .filter((s) => new TextEncoder().encode(s).length <= WRAPPED_FRAGMENT_MAX),
        fc.string({ minLength: 1, maxLength: 24 }),
        fc.constantFrom("a" as const, "b" as const),
        async (fragment, waitingId, seat) => {
          const wrapped = await wrapSeatKeys(pair.publicKey, fragment, { waitingId, seat });
          expect(isWrappedKeys(wrapped)).toBe(true);
          expect(wrapped.length).toBeLessThanOrEqual(WRAPPED_KEYS_MAX);
          expect(await unwrapSeatKeys(pair, wrapped, { waitingId, seat })).toBe(fragment);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("the privacy code", () => {
  it("is 16 digits in four groups, the same for the same key, different for another", async () => {
    const one = await generateWaitingKeyPair();
    const two = await generateWaitingKeyPair();
    const code = await privacyCode(one.publicKey);
    expect(code).toMatch(/^\d{4} \d{4} \d{4} \d{4}$/);
    expect(await privacyCode(one.publicKey)).toBe(code);
    expect(await privacyCode(two.publicKey)).not.toBe(code);
    expect((await cryptoFailure(privacyCode("nope"))).problem).toBe("key");
  });
});
