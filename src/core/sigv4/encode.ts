// RFC 3986 percent-encoding as SigV4 defines it: every byte outside A-Z a-z 0-9 - _ . ~ becomes %XY
// (upper-case hex). Decoding works on bytes so that a client's encoding of invalid UTF-8 still
// re-encodes to exactly what it signed.

const HEX = '0123456789ABCDEF';
const UNRESERVED_ONLY = /^[A-Za-z0-9\-._~]*$/;

function isUnreserved(b: number): boolean {
  return (
    (b >= 0x41 && b <= 0x5a) || // A-Z
    (b >= 0x61 && b <= 0x7a) || // a-z
    (b >= 0x30 && b <= 0x39) || // 0-9
    b === 0x2d ||
    b === 0x2e ||
    b === 0x5f ||
    b === 0x7e
  );
}

export function encodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += isUnreserved(b) ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  return out;
}

/** Percent-encode the UTF-8 bytes of `text`. */
export function uriEncode(text: string): string {
  return UNRESERVED_ONLY.test(text) ? text : encodeBytes(Buffer.from(text, 'utf8'));
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Percent-decode raw URL text to bytes. A '%' not followed by two hex digits stays literal (as
 * URLSearchParams does); with `plusIsSpace`, '+' decodes to a space (form encoding).
 */
export function percentDecode(raw: string, plusIsSpace: boolean): Buffer {
  const src = Buffer.from(raw, 'utf8');
  const out = Buffer.allocUnsafe(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as number;
    if (c === 0x25 && i + 2 < src.length) {
      const hi = hexValue(src[i + 1] as number);
      const lo = hexValue(src[i + 2] as number);
      if (hi >= 0 && lo >= 0) {
        out[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    out[n++] = plusIsSpace && c === 0x2b ? 0x20 : c;
  }
  return out.subarray(0, n);
}

/** Decode then re-encode: the normalised form both sides of a signature agree on. */
export function normaliseComponent(raw: string, plusIsSpace: boolean): { text: string; encoded: string } {
  if (UNRESERVED_ONLY.test(raw)) return { text: raw, encoded: raw };
  const bytes = percentDecode(raw, plusIsSpace);
  return { text: bytes.toString('utf8'), encoded: encodeBytes(bytes) };
}
