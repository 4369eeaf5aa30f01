/**
 * The built client's files, served like a production site: the hashed assets under /assets/ (their names change
 * whenever their content does) may be cached for a year and never revalidated, and each is sent as the
 * precompressed copy the browser accepts (brotli, else gzip, written beside it at build time by
 * scripts/build-if-needed.mjs), so no CPU is spent compressing per request. The page itself (index.html) is
 * served elsewhere with no-store, so a new deployment is picked up at the next load.
 */
import { access } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import express, { type NextFunction, type Request, type Response } from "express";

/** Encodings precompressed at build, in order of preference, with their file suffix. */
const ENCODINGS = [
  { name: "br", suffix: ".br" },
  { name: "gzip", suffix: ".gz" },
] as const;

/** Long-lived caching for content-addressed files: a year, the longest value caches honour. */
const ONE_YEAR = "365d";
/** Unhashed files at the top of the build (the icon): an hour, so a changed icon shows up the same day. */
const ONE_HOUR = "1h";

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * Serves /assets/* from `dist`: the best precompressed variant (Content-Encoding, Vary: Accept-Encoding), the
 * original otherwise, with immutable cache headers; a missing asset is a plain 404, never the page.
 */
export function assetHandler(dist: string) {
  const assets = join(dist, "assets");
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    if (req.method !== "GET" && req.method !== "HEAD") return next();
    let file: string;
    try {
      file = normalize(join(assets, decodeURIComponent(req.path)));
    } catch {
      res.status(400).type("text/plain").send("Bad request");
      return;
    }
    // Never outside the assets folder, and never a precompressed copy asked for by its own name.
    if (!file.startsWith(assets + sep) || ENCODINGS.some((e) => file.endsWith(e.suffix))) {
      res.status(404).type("text/plain").send("Not found");
      return;
    }
    // Caches must keep one copy per encoding, whichever this answer is.
    res.vary("Accept-Encoding");
    let sent = file;
    // Ours is the preference among those the browser accepts (q > 0): browsers list gzip before br, and a
    // plain negotiation would follow that order to the larger copy.
    const encoding = ENCODINGS.find((e) => req.acceptsEncodings(e.name) === e.name);
    if (encoding && (await exists(file + encoding.suffix))) {
      sent = file + encoding.suffix;
      res.setHeader("Content-Encoding", encoding.name);
      // The type of the original: send() would otherwise name the .br file's own (unknown) type.
      res.type(extname(file));
    }
    res.sendFile(sent, { maxAge: ONE_YEAR, immutable: true, dotfiles: "deny" }, (err?: Error & { status?: number }) => {
      if (!err) return;
      if (res.headersSent) {
        res.end();
        return;
      }
      res.removeHeader("Content-Encoding");
      res.removeHeader("Cache-Control");
      const missing = err.status === 404 || (err as NodeJS.ErrnoException).code === "ENOENT";
      if (!missing) next(err);
      else res.status(404).type("text/plain").send("Not found");
    });
  };
}

/** The other built files (the icon), cached for an hour; index.html is left to the page routes. */
export function topLevelFiles(dist: string) {
  return express.static(dist, { index: false, fallthrough: true, maxAge: ONE_HOUR, etag: false });
}
