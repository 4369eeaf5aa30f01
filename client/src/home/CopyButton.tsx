/** Copies a link, with a fallback for browsers without the async clipboard (e.g. plain http on a LAN address). */
import { useState } from "preact/hooks";

async function copyText(text: string, fallbackInput: HTMLInputElement | null): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Permission refused or not focused: try the old way below.
  }
  if (!fallbackInput) return false;
  fallbackInput.focus();
  fallbackInput.select();
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  }
}

/** A copy button for the link held by `inputRef` (the input stays selected if copying is impossible). */
export function CopyButton({ text, inputId, label }: { text: string; inputId: string; label: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const onClick = async () => {
    const ok = await copyText(text, document.getElementById(inputId) as HTMLInputElement | null);
    setState(ok ? "copied" : "failed");
  };
  return (
    <span class="copy">
      <button type="button" class="btn secondary" onClick={onClick}>
        {state === "copied" ? "Copied" : "Copy link"}
        <span class="sr-only"> ({label})</span>
      </button>
      <span class="copy-status" role="status">
        {state === "copied"
          ? "Link copied."
          : state === "failed"
            ? "Couldn't copy — the link is selected, copy it by hand."
            : ""}
      </span>
    </span>
  );
}
