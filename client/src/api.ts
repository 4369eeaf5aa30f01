/** The two REST calls the home page makes. */
import type { CreateSessionRequest, CreateSessionResponse, Mode } from "../../shared/protocol.ts";
import { generateSessionKeys, linksWithKeys, type SessionKeys, sealNames } from "../../shared/session-crypto.ts";

export interface ExerciseSummary {
  id: string;
  title: string;
  summary: string;
  /** The summary for a session without timers, where the exercise words its turns differently. */
  untimedSummary?: string;
  modes?: Mode[];
}

/** The error a REST call answered with, in words a person can act on. */
export class ApiError extends Error {
  readonly code: string;
  readonly field: string | undefined;
  constructor(code: string, message: string, field?: string) {
    super(message);
    this.code = code;
    this.field = field;
  }
}

async function readError(res: Response): Promise<ApiError> {
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string; field?: string } };
    if (body.error?.message)
      return new ApiError(body.error.code ?? `HTTP_${res.status}`, body.error.message, body.error.field);
  } catch {
    // Not JSON: fall through to a generic message.
  }
  if (res.status === 401 || res.status === 403)
    return new ApiError("UNAUTHORIZED", "This server needs a therapist key for that.");
  if (res.status === 429) return new ApiError("RATE_LIMITED", "Too many tries just now. Wait a minute and try again.");
  return new ApiError(`HTTP_${res.status}`, "Something went wrong on the server. Please try again.");
}

/** The exercise catalogue (id, title, one-line summary). */
export async function fetchExercises(): Promise<ExerciseSummary[]> {
  const res = await fetch("/api/exercises", { headers: { accept: "application/json" } });
  if (!res.ok) throw await readError(res);
  const body = (await res.json()) as ExerciseSummary[] | { exercises: ExerciseSummary[] };
  return Array.isArray(body) ? body : body.exercises;
}

/**
 * Creates a session and returns its links. A typed session is end-to-end encrypted unless `request.encrypted` is
 * false: its keys are made here, the names are sealed before they leave, and each returned link gets its seat's
 * keys in the fragment (the server never sees them).
 */
export async function createSession(
  request: CreateSessionRequest,
  therapistKey?: string,
): Promise<CreateSessionResponse> {
  const encrypted = request.encrypted ?? request.channel === "typed";
  if (!encrypted) return postSession({ ...request, encrypted: false }, therapistKey);
  let keys: SessionKeys;
  try {
    keys = await generateSessionKeys();
  } catch {
    throw new ApiError(
      "NO_CRYPTO",
      "This browser cannot encrypt the session. Open Attune over https in a current browser.",
    );
  }
  const sealed: CreateSessionRequest = { ...request, encrypted: true };
  if (request.names) sealed.names = await sealNames(keys, request.names);
  const created = await postSession(sealed, therapistKey);
  return { ...created, links: linksWithKeys(created.links, keys, request.mode) };
}

async function postSession(request: CreateSessionRequest, therapistKey?: string): Promise<CreateSessionResponse> {
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (therapistKey) headers.authorization = `Bearer ${therapistKey}`;
  let res: Response;
  try {
    res = await fetch("/api/sessions", { method: "POST", headers, body: JSON.stringify(request) });
  } catch {
    throw new ApiError("NETWORK", "Couldn't reach the server. Check your connection and try again.");
  }
  if (!res.ok) throw await readError(res);
  return (await res.json()) as CreateSessionResponse;
}
