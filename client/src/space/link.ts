/**
 * Where this tab keeps the couple's space link (token and key). Like seat links it lives in sessionStorage only:
 * taken out of the address bar before anything renders, kept for this tab, gone when the tab closes. A session
 * played in a tab that holds a space link is linked to that space (its kept entry is saved there); the key
 * itself never goes to the server.
 */
const SPACE_KEY = "attune.space";

export const SPACE_PATH = "/space";

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

/** The full space link (with `#key`) this tab holds, or null. */
export function storedSpaceLink(): string | null {
  return storage()?.getItem(SPACE_KEY) ?? null;
}

export function storeSpaceLink(link: string): void {
  storage()?.setItem(SPACE_KEY, link);
}

export function forgetSpaceLink(): void {
  storage()?.removeItem(SPACE_KEY);
}

/** True when `pathname` is a space link's path (/space/<token>). */
export function isSpaceLinkPath(pathname: string): boolean {
  return /^\/space\/[A-Za-z0-9_.-]{10,128}\/?$/.test(pathname);
}
