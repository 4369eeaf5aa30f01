// Builds the browser client when client/dist is missing or older than any client source file.
// Placeholder until the client exists: does nothing when client/vite.config.ts is absent.
import { existsSync } from "node:fs";
if (!existsSync(new URL("../client/vite.config.ts", import.meta.url))) process.exit(0);
