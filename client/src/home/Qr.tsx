/** A QR code drawn as SVG elements (no generated markup strings, so nothing is injected as HTML). */
import qrcode from "qrcode-generator";

/** The SVG path of the dark modules of a QR code for `text`, and the size of its grid. */
export function qrPath(text: string): { size: number; d: string } {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  const count = qr.getModuleCount();
  let d = "";
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; col++) {
      if (qr.isDark(row, col)) d += `M${col} ${row}h1v1h-1z`;
    }
  }
  return { size: count, d };
}

/** A scannable QR code for a link, with an accessible label. */
export function QrCode({ text, label }: { text: string; label: string }) {
  const { size, d } = qrPath(text);
  const margin = 4;
  const box = size + margin * 2;
  return (
    <svg
      class="qr"
      viewBox={`${-margin} ${-margin} ${box} ${box}`}
      role="img"
      aria-label={label}
      shape-rendering="crispEdges"
    >
      <rect x={-margin} y={-margin} width={box} height={box} fill="#fff" />
      <path d={d} fill="#111" />
    </svg>
  );
}
