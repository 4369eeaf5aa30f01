/**
 * The space's end-to-end encryption (shared/crypto.ts) on Node's WebCrypto: a round trip, and every way an
 * entry must refuse to open — wrong key, altered bytes, moved to another space, kind or id — with a clear error.
 */
import { describe, expect, it } from "vitest";
import {
  deriveEntryId,
  entryContext,
  exportSpaceKey,
  fromBase64Url,
  generateSpaceKey,
  importSpaceKey,
  randomEntryId,
  SpaceCryptoError,
  seal,
  toBase64Url,
  unseal,
} from "../../shared/crypto.ts";

const CONTEXT = entryContext("space-1", "session", "entry-1");
const VALUE = { heard: 8, word: "lighter", lines: ["I felt listened to"] };

async function expectProblem(promise: Promise<unknown>, problem: string): Promise<SpaceCryptoError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SpaceCryptoError);
  expect((err as SpaceCryptoError).problem).toBe(problem);
  expect((err as SpaceCryptoError).message.length).toBeGreaterThan(20);
  return err as SpaceCryptoError;
}

describe("space crypto", () => {
  it("round-trips a value through an envelope of base64url fields, with a fresh IV each time", async () => {
    const key = await generateSpaceKey();
    const one = await seal(key, CONTEXT, VALUE);
    const two = await seal(key, CONTEXT, VALUE);
    expect(one.v).toBe(1);
    expect(one.iv).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(one.ct).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(one.iv).not.toBe(two.iv);
    expect(one.ct).not.toBe(two.ct);
    expect(JSON.stringify(one)).not.toContain("lighter");
    expect(await unseal(key, CONTEXT, one)).toEqual(VALUE);
    expect(await unseal(key, CONTEXT, two)).toEqual(VALUE);
  });

  it("exports a key as 43 base64url characters that import back to the same key", async () => {
    const key = await generateSpaceKey();
    const text = exportSpaceKey(key);
    expect(text).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = await importSpaceKey(text);
    expect(await unseal(again, CONTEXT, await seal(key, CONTEXT, VALUE))).toEqual(VALUE);
    expect(await deriveEntryId(again, "session:x")).toBe(await deriveEntryId(key, "session:x"));
  });

  it("refuses a key that is not one, saying the link is incomplete", async () => {
    for (const bad of ["", "short", `${"A".repeat(42)}!`, "A".repeat(60)]) {
      const err = await expectProblem(importSpaceKey(bad), "key");
      expect(err.message).toMatch(/link/);
    }
  });

  it("a wrong key cannot open an entry", async () => {
    const key = await generateSpaceKey();
    const other = await generateSpaceKey();
    const envelope = await seal(key, CONTEXT, VALUE);
    const err = await expectProblem(unseal(other, CONTEXT, envelope), "unreadable");
    expect(err.message).toMatch(/key is wrong|changed/);
  });

  it("an altered byte of the ciphertext, its tag or its IV is detected", async () => {
    const key = await generateSpaceKey();
    const envelope = await seal(key, CONTEXT, VALUE);
    const ct = fromBase64Url(envelope.ct)!;
    for (const index of [0, Math.floor(ct.length / 2), ct.length - 1]) {
      const flipped = new Uint8Array(ct);
      flipped[index] = flipped[index]! ^ 1;
      await expectProblem(unseal(key, CONTEXT, { ...envelope, ct: toBase64Url(flipped) }), "unreadable");
    }
    const iv = fromBase64Url(envelope.iv)!;
    iv[0] = iv[0]! ^ 0x80;
    await expectProblem(unseal(key, CONTEXT, { ...envelope, iv: toBase64Url(iv) }), "unreadable");
  });

  it("an entry moved to another space, kind or id does not open", async () => {
    const key = await generateSpaceKey();
    const envelope = await seal(key, CONTEXT, VALUE);
    await expectProblem(unseal(key, entryContext("space-2", "session", "entry-1"), envelope), "unreadable");
    await expectProblem(unseal(key, entryContext("space-1", "answer", "entry-1"), envelope), "unreadable");
    await expectProblem(unseal(key, entryContext("space-1", "session", "entry-2"), envelope), "unreadable");
  });

  it("something that is no envelope is malformed, not a crash", async () => {
    const key = await generateSpaceKey();
    for (const bad of [
      null,
      "text",
      { v: 2, iv: "AAAAAAAAAAAAAAAA", ct: "AAAA" },
      { v: 1, iv: "x", ct: "y" },
      { v: 1 },
    ]) {
      await expectProblem(unseal(key, CONTEXT, bad), "malformed");
    }
  });

  it("derives entry ids deterministically per key and label, and random ids differ", async () => {
    const key = await generateSpaceKey();
    const other = await generateSpaceKey();
    const id = await deriveEntryId(key, "session:abc");
    expect(id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await deriveEntryId(key, "session:abc")).toBe(id);
    expect(await deriveEntryId(key, "session:abd")).not.toBe(id);
    expect(await deriveEntryId(other, "session:abc")).not.toBe(id);
    expect(randomEntryId()).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(randomEntryId()).not.toBe(randomEntryId());
  });

  it("base64url round-trips every byte value and refuses other alphabets", () => {
    const all = new Uint8Array(256).map((_, i) => i);
    expect(fromBase64Url(toBase64Url(all))).toEqual(all);
    expect(fromBase64Url("a+b/")).toBeUndefined();
    expect(fromBase64Url("abcde")).toBeUndefined();
  });
});
