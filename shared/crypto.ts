/**
 * End-to-end encryption, shared by the couple's space and by encrypted sessions: AES-GCM with a 256-bit key that
 * lives only in a link's fragment (`#…`, never sent to a server). Runs on WebCrypto (`globalThis.crypto.subtle`),
 * so the browser, the headless participant and Node 20 use the same code.
 *
 * Two forms share one sealing routine: a space entry is a JSON envelope `{v, iv, ct}` holding any JSON value;
 * a session text is one string `e1.<iv>.<ct>` holding the UTF-8 bytes of a text (see sealText, and
 * shared/session-crypto.ts for the contexts a session binds its texts to).
 *
 * Every envelope is bound to a context string given as additional authenticated data: the space, the entry's
 * kind and the entry's id. An envelope copied to another space, relabelled as another kind or moved under
 * another id no longer opens. Wrong key, altered bytes and moved context all fail the same authentication
 * check (AES-GCM cannot tell them apart); callers tell a wrong key from a damaged entry by whether any entry of
 * the space opens (see docs/space.md).
 */

/** The one envelope version written today. */
export const ENVELOPE_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** An encrypted value as stored: version, 96-bit IV and ciphertext (with its 128-bit tag), both base64url. */
export interface Envelope {
  v: number;
  iv: string;
  ct: string;
}

/** Why something could not be opened: `key` (not a space key), `malformed` (no envelope), `unreadable` (fails). */
export type SpaceCryptoProblem = "key" | "malformed" | "unreadable";

/** A clear, named failure; never carries plaintext or key material. */
export class SpaceCryptoError extends Error {
  readonly problem: SpaceCryptoProblem;
  constructor(problem: SpaceCryptoProblem, message: string) {
    super(message);
    this.name = "SpaceCryptoError";
    this.problem = problem;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** WebCrypto's SubtleCrypto (browsers, Node 20), or a SpaceCryptoError("key") saying this page cannot encrypt. */
export function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (!s)
    throw new SpaceCryptoError("key", "this browser cannot encrypt (WebCrypto is missing or the page is not secure)");
  return s;
}

/** Bytes as base64url without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** base64url (padding optional) as bytes; undefined when it is not base64url. */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) return undefined;
  const plain = text.replace(/=+$/, "");
  if (plain.length % 4 === 1) return undefined;
  try {
    const binary = atob(plain.replace(/-/g, "+").replace(/_/g, "/"));
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

/** A secret key (a space's or a session audience's), usable to encrypt and decrypt and to derive entry ids. */
export interface SpaceKey {
  /** The AES-GCM key. */
  readonly aes: CryptoKey;
  /** An HMAC-SHA-256 key from the same secret, for deterministic entry ids. */
  readonly mac: CryptoKey;
  /** The key as base64url (43 characters), for the link fragment. */
  readonly text: string;
}

async function keyFromBytes(raw: Uint8Array): Promise<SpaceKey> {
  const s = subtle();
  const bytes = new Uint8Array(raw);
  const aes = await s.importKey("raw", bytes, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  // A separate key for ids, derived so an id never reuses the encryption key as is.
  const macRaw = new Uint8Array(await s.digest("SHA-256", concat(encoder.encode("attune.space.ids/v1\u0000"), bytes)));
  const mac = await s.importKey("raw", macRaw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return { aes, mac, text: toBase64Url(bytes) };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Any secret key: the same shape serves a space and each audience of a session. */
export type SecretKey = SpaceKey;

/** A fresh random key. */
export async function generateSpaceKey(): Promise<SpaceKey> {
  const raw = new Uint8Array(KEY_BYTES);
  globalThis.crypto.getRandomValues(raw);
  return keyFromBytes(raw);
}

/** The key of a link fragment; throws SpaceCryptoError("key") when it is not one. */
export async function importSpaceKey(text: string): Promise<SpaceKey> {
  const raw = fromBase64Url(text.trim());
  if (!raw || raw.length !== KEY_BYTES) {
    throw new SpaceCryptoError("key", "the link's key is incomplete or mistyped: open the whole link again");
  }
  return keyFromBytes(raw);
}

/** The key as text for the fragment (the same as key.text). */
export function exportSpaceKey(key: SpaceKey): string {
  return key.text;
}

/** The additional data an entry is bound to: its space, its kind and its id. */
export function entryContext(spaceId: string, kind: string, entryId: string): string {
  return `attune.space/v1|${spaceId}|${kind}|${entryId}`;
}

/** Encrypts `plaintext` bound to `context` under a fresh random IV: the IV and the ciphertext, base64url. */
async function sealBytes(key: SecretKey, context: string, plaintext: Uint8Array<ArrayBuffer>) {
  const iv = new Uint8Array(IV_BYTES);
  globalThis.crypto.getRandomValues(iv);
  const ct = await subtle().encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(context), tagLength: 128 },
    key.aes,
    plaintext,
  );
  return { iv: toBase64Url(iv), ct: toBase64Url(new Uint8Array(ct)) };
}

/** Decrypts base64url `iv` and `ct` bound to `context`; SpaceCryptoError "malformed" or "unreadable" otherwise. */
async function openBytes(key: SecretKey, context: string, ivText: string, ctText: string): Promise<Uint8Array> {
  const iv = fromBase64Url(ivText);
  const ct = fromBase64Url(ctText);
  if (!iv || iv.length !== IV_BYTES || !ct || ct.length < TAG_BYTES) {
    throw new SpaceCryptoError("malformed", "this entry is damaged: its encrypted bytes are incomplete");
  }
  try {
    const plain = await subtle().decrypt(
      { name: "AES-GCM", iv: new Uint8Array(iv), additionalData: encoder.encode(context), tagLength: 128 },
      key.aes,
      new Uint8Array(ct),
    );
    return new Uint8Array(plain);
  } catch {
    throw new SpaceCryptoError(
      "unreadable",
      "this entry cannot be opened with this link's key: the key is wrong, or the entry was changed or moved",
    );
  }
}

/** Encrypts `value` (any JSON) bound to `context`. A fresh random IV each time. */
export async function seal(key: SpaceKey, context: string, value: unknown): Promise<Envelope> {
  const { iv, ct } = await sealBytes(key, context, encoder.encode(JSON.stringify(value)));
  return { v: ENVELOPE_VERSION, iv, ct };
}

/** True when `value` has the shape of an envelope (it may still fail to open). */
export function isEnvelope(value: unknown): value is Envelope {
  if (!value || typeof value !== "object") return false;
  const e = value as Record<string, unknown>;
  return typeof e.v === "number" && typeof e.iv === "string" && typeof e.ct === "string";
}

/**
 * Decrypts an envelope bound to `context`. Throws SpaceCryptoError: "malformed" when it is no envelope of a known
 * version, "unreadable" when it fails authentication (wrong key, altered bytes, or moved to another context).
 */
export async function unseal<T = unknown>(key: SpaceKey, context: string, envelope: unknown): Promise<T> {
  if (!isEnvelope(envelope) || envelope.v !== ENVELOPE_VERSION) {
    throw new SpaceCryptoError("malformed", "this entry is not in a format Attune can read");
  }
  const plain = await openBytes(key, context, envelope.iv, envelope.ct);
  try {
    return JSON.parse(decoder.decode(plain)) as T;
  } catch {
    throw new SpaceCryptoError("malformed", "this entry opened but holds no readable content");
  }
}

/**
 * A deterministic entry id for `label` (e.g. "session:<session id>"): HMAC-SHA-256 under the space key, 32
 * base64url characters. Both partners derive the same id for the same session, so saving it twice lands once,
 * and the server cannot link the id to the session.
 */
export async function deriveEntryId(key: SpaceKey, label: string): Promise<string> {
  const mac = await subtle().sign("HMAC", key.mac, encoder.encode(label));
  return toBase64Url(new Uint8Array(mac)).slice(0, 32);
}

/** A random entry id (22 base64url characters, 132 bits). */
export function randomEntryId(): string {
  const raw = new Uint8Array(16);
  globalThis.crypto.getRandomValues(raw);
  return toBase64Url(raw).slice(0, 22);
}

// ---------------------------------------------------------------------------------------------------------
// Sealed texts: one string a protocol field can carry in place of the words

/** How a sealed text starts: the form's version. */
export const SEALED_TEXT_PREFIX = "e1.";
/** `e1.` + 16 base64url characters of IV + `.` + at least the 22 characters of a bare tag. */
const SEALED_TEXT_FORM = /^e1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22,}$/;

/** True when `text` has the form of a sealed text (it may still fail to open). */
export function isSealedText(text: unknown): text is string {
  return typeof text === "string" && SEALED_TEXT_FORM.test(text);
}

/**
 * The longest sealed text a plaintext of at most `plainMax` UTF-16 code units can give: each unit is at most 3
 * UTF-8 bytes (a surrogate pair is 2 units for 4 bytes), plus the 16-byte tag, in base64url without padding.
 */
export function sealedTextMax(plainMax: number): number {
  const bytes = plainMax * 3 + TAG_BYTES;
  return SEALED_TEXT_PREFIX.length + 16 + 1 + Math.ceil((bytes * 4) / 3);
}

/** Seals `text` bound to `context`: `e1.<iv>.<ct>`. A fresh random IV each time. */
export async function sealText(key: SecretKey, context: string, text: string): Promise<string> {
  const { iv, ct } = await sealBytes(key, context, encoder.encode(text));
  return `${SEALED_TEXT_PREFIX}${iv}.${ct}`;
}

/**
 * Opens a sealed text bound to `context`. Throws SpaceCryptoError: "malformed" when it is not a sealed text (or its
 * bytes are not UTF-8), "unreadable" when it fails authentication (wrong key, altered, or moved to another context).
 */
export async function openText(key: SecretKey, context: string, sealed: unknown): Promise<string> {
  if (!isSealedText(sealed)) throw new SpaceCryptoError("malformed", "this text is not in a format Attune can read");
  const [, iv = "", ct = ""] = sealed.split(".");
  const plain = await openBytes(key, context, iv, ct);
  try {
    return decoder.decode(plain);
  } catch {
    throw new SpaceCryptoError("malformed", "this text opened but holds no readable words");
  }
}
