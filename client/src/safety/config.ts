/**
 * The page settings the server hands every client (GET /api/client-config): where the quick exit goes and, when
 * the deployment has one, a support service to link. Fetched once per page load and cached; until it answers (or
 * if it never does) the quick exit still works, with the default neutral page.
 */

export interface ClientConfig {
  quickExitUrl: string;
  supportUrl?: string;
}

/** The neutral page used until the server's setting is known (the server's own default is the same page). */
export const DEFAULT_QUICK_EXIT_URL = "https://www.bbc.co.uk/weather";

let cached: ClientConfig | null = null;
let loading: Promise<ClientConfig | null> | null = null;
const listeners = new Set<(config: ClientConfig) => void>();

/** An absolute http(s) address, or null: anything else from the network is ignored rather than followed. */
function webAddress(value: unknown): string | null {
  if (typeof value !== "string") return null;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/** Starts the one fetch of this page load (later calls share it). Never rejects. */
export function loadClientConfig(): Promise<ClientConfig | null> {
  if (!loading) {
    loading = fetch("/api/client-config", { headers: { accept: "application/json" } })
      .then(async (res) => {
        if (!res.ok) return null;
        const body = (await res.json()) as { quickExitUrl?: unknown; supportUrl?: unknown };
        const quickExitUrl = webAddress(body.quickExitUrl) ?? DEFAULT_QUICK_EXIT_URL;
        const supportUrl = webAddress(body.supportUrl);
        cached = { quickExitUrl, ...(supportUrl ? { supportUrl } : {}) };
        for (const listener of listeners) listener(cached);
        return cached;
      })
      .catch(() => null);
  }
  return loading;
}

/** The settings known so far (null until the fetch answered). */
export function clientConfig(): ClientConfig | null {
  return cached;
}

/** Where the quick exit goes right now: the server's setting once known, else the default. */
export function quickExitUrl(): string {
  return cached?.quickExitUrl ?? DEFAULT_QUICK_EXIT_URL;
}

/** Calls `listener` once the settings arrive; returns the unsubscribe. */
export function onClientConfig(listener: (config: ClientConfig) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
