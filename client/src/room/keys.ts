/**
 * Where this tab keeps a seat link's keys (the fragment after `#`, see shared/session-crypto.ts): in sessionStorage,
 * by the link's token, like the token itself — out of the address bar and history, gone when the tab closes, there
 * again after a reload. The fragment is never sent anywhere.
 */
import { keyFragmentOf } from "../../../shared/session-crypto.ts";
import { tokenFromLink } from "../seats.ts";

const PREFIX = "attune.keys.";

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

/** Keeps the key fragment (with or without `#`) of the link whose token is `token`; an empty one is not kept. */
export function storeLinkKeys(token: string, fragment: string): void {
  const keys = fragment.startsWith("#") ? fragment.slice(1) : fragment;
  if (keys) storage()?.setItem(PREFIX + token, keys);
}

/** Keeps the keys of a whole join link (as a session's creation or a reissue returns it). */
export function rememberLinkKeys(link: string): void {
  const token = tokenFromLink(link);
  if (token) storeLinkKeys(token, keyFragmentOf(link));
}

/** The key fragment kept for `token` ("" when its link had none). */
export function linkKeys(token: string): string {
  return storage()?.getItem(PREFIX + token) ?? "";
}

/** Forgets the keys of a link no longer held. */
export function forgetLinkKeys(token: string): void {
  storage()?.removeItem(PREFIX + token);
}

/** `link` carrying the keys kept for `token` (a reissued link keeps the keys of the link it replaces). */
export function withKeysOf(token: string, link: string): string {
  const keys = linkKeys(token);
  return keys ? `${link.split("#")[0]}#${keys}` : link;
}
