/**
 * Handing a session's keys to a partner who arrives through a practice's standing waiting room (docs/privacy.md,
 * "Keys for the waiting list"). Such a partner holds no link, so no fragment can carry their keys. Instead:
 *
 * 1. the waiting page makes an ECDH P-256 key pair, keeps the private half in this tab only (as a JWK in
 *    sessionStorage, beside its waiting ticket) and sends the public half with its first name;
 * 2. the practice console makes the session's keys, and for each partner an ephemeral ECDH key pair: the shared
 *    secret with that partner's public key, through HKDF-SHA-256, gives an AES-256-GCM key that seals the partner's
 *    key fragment (the same `k=…&pa=…` text their link would carry), bound to the waiting place and the seat;
 * 3. the server keeps that one string with the partner's seat and hands it to the partner's page once, with the
 *    seat's token; the page opens it with its private key and keeps the fragment as a link's would be kept.
 *
 * The server relays public keys and sealed strings only: it never sees a private key or a session key. It could,
 * being the relay, hand out a public key of its own instead of the partner's; the privacy code (privacyCode) is how
 * a partner and the therapist can check that the key the console used is the one the partner's page made.
 *
 * Runs on WebCrypto (`globalThis.crypto.subtle`): the browser, the headless participant and Node 20 share it.
 */
import { fromBase64Url, SpaceCryptoError, subtle, toBase64Url } from "./crypto.ts";

/** How a wrapped set of keys starts: the form's version. */
export const WRAPPED_KEYS_PREFIX = "x1.";
/** A P-256 public key in raw (uncompressed) form is 65 bytes: 87 base64url characters. */
const PUBLIC_KEY_CHARS = 87;
const PUBLIC_KEY_BYTES = 65;
const IV_BYTES = 12;
/** A seat's fragment is about 92 bytes; the bound (in UTF-8 bytes) leaves room for longer forms, not for blobs. */
export const WRAPPED_FRAGMENT_MAX = 360;
const CIPHERTEXT_MAX_CHARS = Math.ceil(((WRAPPED_FRAGMENT_MAX + 16) * 4) / 3);

/** The raw public key as base64url: 87 characters, starting with the uncompressed point marker (0x04, "B"). */
const PUBLIC_KEY_FORM = /^B[A-Za-z0-9_-]{86}$/;
/** `x1.` + ephemeral public key + `.` + 16 characters of IV + `.` + ciphertext with its 16-byte tag. */
const WRAPPED_FORM = new RegExp(
  `^x1\\.B[A-Za-z0-9_-]{86}\\.[A-Za-z0-9_-]{16}\\.[A-Za-z0-9_-]{22,${CIPHERTEXT_MAX_CHARS}}$`,
);

/** The longest wrapped string accepted anywhere (the server checks the form too). */
export const WRAPPED_KEYS_MAX = WRAPPED_KEYS_PREFIX.length + PUBLIC_KEY_CHARS + 1 + 16 + 1 + CIPHERTEXT_MAX_CHARS;

const ECDH = { name: "ECDH", namedCurve: "P-256" } as const;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Where a wrapped set of keys belongs: the waiting place it was made for and the seat it opens. */
export interface WaitPlace {
  /** The waiting entry's id (as the waiting list shows it to the practice, and the wait answer to the partner). */
  waitingId: string;
  seat: "a" | "b";
}

/** The additional data a wrapped set of keys is bound to. */
export function waitContext(place: WaitPlace): string {
  return `attune.wait/v1|${place.waitingId}|${place.seat}`;
}

/** A waiting partner's key pair: the public half as text for the server, the private half to keep in this tab. */
export interface WaitingKeyPair {
  /** The raw P-256 public key, base64url (87 characters). */
  publicKey: string;
  privateKey: CryptoKey;
}

/** A fresh key pair for a waiting page. The private key is extractable only so the tab can keep it (keepPrivateKey). */
export async function generateWaitingKeyPair(): Promise<WaitingKeyPair> {
  const pair = (await subtle().generateKey(ECDH, true, ["deriveBits"])) as CryptoKeyPair;
  const raw = new Uint8Array(await subtle().exportKey("raw", pair.publicKey));
  return { publicKey: toBase64Url(raw), privateKey: pair.privateKey };
}

/** The private key as a JWK, for this tab's sessionStorage (never sent anywhere). */
export async function keepPrivateKey(privateKey: CryptoKey): Promise<JsonWebKey> {
  return subtle().exportKey("jwk", privateKey);
}

/** A private key kept by keepPrivateKey; throws SpaceCryptoError("key") when the JWK is not one. */
export async function restorePrivateKey(jwk: unknown): Promise<CryptoKey> {
  const k = jwk as JsonWebKey | null;
  if (!k || typeof k !== "object" || k.kty !== "EC" || k.crv !== "P-256" || typeof k.d !== "string") {
    throw new SpaceCryptoError("key", "the key this page kept for your session is missing or damaged");
  }
  try {
    return await subtle().importKey("jwk", { kty: "EC", crv: "P-256", x: k.x, y: k.y, d: k.d }, ECDH, false, [
      "deriveBits",
    ]);
  } catch {
    throw new SpaceCryptoError("key", "the key this page kept for your session is missing or damaged");
  }
}

/** True when `text` has the form of a public key (it may still not be a point on the curve: see importPublicKey). */
export function isPublicKeyText(text: unknown): text is string {
  return typeof text === "string" && PUBLIC_KEY_FORM.test(text);
}

/** True when `text` has the form of a wrapped set of keys (it may still fail to open). */
export function isWrappedKeys(text: unknown): text is string {
  return typeof text === "string" && text.length <= WRAPPED_KEYS_MAX && WRAPPED_FORM.test(text);
}

/** The public key of `text`; throws SpaceCryptoError("key") when it is not a P-256 public key. */
export async function importPublicKey(text: unknown): Promise<CryptoKey> {
  const raw = isPublicKeyText(text) ? fromBase64Url(text) : undefined;
  if (!raw || raw.length !== PUBLIC_KEY_BYTES) {
    throw new SpaceCryptoError("key", "this is not a waiting page's public key");
  }
  try {
    return await subtle().importKey("raw", raw, ECDH, true, []);
  } catch {
    throw new SpaceCryptoError("key", "this is not a waiting page's public key");
  }
}

/** Whether `text` is a usable P-256 public key (its form, and a point on the curve). */
export async function isPublicKey(text: unknown): Promise<boolean> {
  try {
    await importPublicKey(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The AES-GCM key both sides derive: ECDH between one side's private key and the other's public key, then HKDF with
 * both public keys in its info, so the key belongs to this one exchange (ephemeral key, recipient key).
 */
async function exchangeKey(
  privateKey: CryptoKey,
  publicKey: CryptoKey,
  ephemeralText: string,
  recipientText: string,
  usage: "encrypt" | "decrypt",
): Promise<CryptoKey> {
  const s = subtle();
  const shared = await s.deriveBits({ name: "ECDH", public: publicKey }, privateKey, 256);
  const hkdf = await s.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  return s.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(0),
      info: encoder.encode(`attune.wait/v1 key|${ephemeralText}|${recipientText}`),
    },
    hkdf,
    { name: "AES-GCM", length: 256 },
    false,
    [usage],
  );
}

/**
 * Seals `fragment` (a seat's key fragment, `k=…&pa=…`) for the waiting partner whose public key is
 * `partnerPublicKey`, bound to `place`: `x1.<ephemeral public key>.<iv>.<ciphertext>`. Made in the console; a fresh
 * ephemeral key pair and IV each time. Throws SpaceCryptoError("key") when the public key is not one.
 */
export async function wrapSeatKeys(partnerPublicKey: string, fragment: string, place: WaitPlace): Promise<string> {
  const plain = encoder.encode(fragment);
  if (plain.length === 0 || plain.length > WRAPPED_FRAGMENT_MAX) {
    throw new SpaceCryptoError("malformed", "these keys do not fit in a waiting page's envelope");
  }
  const recipient = await importPublicKey(partnerPublicKey);
  const s = subtle();
  const ephemeral = (await s.generateKey(ECDH, true, ["deriveBits"])) as CryptoKeyPair;
  const ephemeralText = toBase64Url(new Uint8Array(await s.exportKey("raw", ephemeral.publicKey)));
  const key = await exchangeKey(ephemeral.privateKey, recipient, ephemeralText, partnerPublicKey, "encrypt");
  const iv = new Uint8Array(IV_BYTES);
  globalThis.crypto.getRandomValues(iv);
  const ct = await s.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(waitContext(place)), tagLength: 128 },
    key,
    plain,
  );
  return `${WRAPPED_KEYS_PREFIX}${ephemeralText}.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(ct))}`;
}

/**
 * Opens a wrapped set of keys with the waiting page's own key pair, bound to `place`: the seat's key fragment.
 * Throws SpaceCryptoError: "malformed" when `wrapped` is not a wrapped set of keys, "unreadable" when it does not open
 * (made for another page's key, altered, or made for another waiting place or seat).
 */
export async function unwrapSeatKeys(
  own: { privateKey: CryptoKey; publicKey: string },
  wrapped: unknown,
  place: WaitPlace,
): Promise<string> {
  if (!isWrappedKeys(wrapped)) {
    throw new SpaceCryptoError("malformed", "the keys for your session arrived in a form Attune cannot read");
  }
  const [, ephemeralText = "", ivText = "", ctText = ""] = wrapped.split(".");
  const iv = fromBase64Url(ivText);
  const ct = fromBase64Url(ctText);
  let ephemeral: CryptoKey;
  try {
    ephemeral = await importPublicKey(ephemeralText);
  } catch {
    throw new SpaceCryptoError("malformed", "the keys for your session arrived in a form Attune cannot read");
  }
  if (!iv || iv.length !== IV_BYTES || !ct) {
    throw new SpaceCryptoError("malformed", "the keys for your session arrived in a form Attune cannot read");
  }
  let plain: ArrayBuffer;
  try {
    const key = await exchangeKey(own.privateKey, ephemeral, ephemeralText, own.publicKey, "decrypt");
    plain = await subtle().decrypt(
      { name: "AES-GCM", iv, additionalData: encoder.encode(waitContext(place)), tagLength: 128 },
      key,
      ct,
    );
  } catch {
    throw new SpaceCryptoError(
      "unreadable",
      "the keys for your session cannot be opened on this page: they were made for another page, or changed on the way",
    );
  }
  try {
    return decoder.decode(plain);
  } catch {
    throw new SpaceCryptoError("malformed", "the keys for your session opened but hold nothing readable");
  }
}

/**
 * A short code of a waiting page's public key that a person can read aloud: 16 digits in four groups
 * ("4821 0937 5512 8830"), from SHA-256 of the key. The waiting page shows the code of the key it made; the console
 * shows the code of the key the server listed. When both read the same, the console wraps the keys for that page
 * and no one else (a server substituting its own key would have to find one with the same code, about 2^53 tries).
 */
export async function privacyCode(publicKey: string): Promise<string> {
  if (!isPublicKeyText(publicKey)) throw new SpaceCryptoError("key", "this is not a waiting page's public key");
  const digest = new Uint8Array(
    await subtle().digest("SHA-256", encoder.encode(`attune.privacy-code/v1|${publicKey}`)),
  );
  let n = 0n;
  for (const byte of digest.subarray(0, 8)) n = (n << 8n) | BigInt(byte);
  const digits = (n % 10n ** 16n).toString().padStart(16, "0");
  return digits.replace(/(\d{4})(?=\d)/g, "$1 ");
}
