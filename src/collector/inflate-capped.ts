import { Gunzip } from 'fflate';

/** The result of inflating a gzip body under an output cap. */
export type InflateResult =
  | { kind: 'ok'; bytes: Uint8Array }
  | { kind: 'too_large'; message: string }
  | { kind: 'bad_gzip'; message: string };

// fflate inflates all it is given in one call: feeding it small slices bounds the output of one
// step (deflate expands at most ~1032:1), so a bomb is stopped a few hundred KiB past the cap.
const sliceBytes = 256;

class CapExceeded extends Error {}

/** Whether `bytes` start with the gzip magic number (a JSON text never starts with 0x1f). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Inflates gzip `bytes`, stopping as soon as the output passes `maxBytes`: a gzip bomb never
 * inflates. Bad or truncated gzip is a `bad_gzip` result, never an exception.
 */
export function inflateCapped(bytes: Uint8Array, maxBytes: number): InflateResult {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let ended = false;
  const gunzip = new Gunzip((chunk, final) => {
    total += chunk.length;
    if (total > maxBytes) throw new CapExceeded();
    chunks.push(chunk);
    if (final) ended = true;
  });
  try {
    for (let offset = 0; offset < bytes.length; offset += sliceBytes) {
      const end = Math.min(offset + sliceBytes, bytes.length);
      gunzip.push(bytes.subarray(offset, end), end === bytes.length);
    }
  } catch (error) {
    if (error instanceof CapExceeded) {
      return { kind: 'too_large', message: `decompressed body is over the limit of ${maxBytes} bytes` };
    }
    return { kind: 'bad_gzip', message: `gzip body could not be inflated: ${(error as Error).message}` };
  }
  // fflate does not notice a stream cut inside its header or trailer: the trailer's ISIZE (RFC
  // 1952: input size mod 2^32) must match what came out.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!ended || bytes.length < 18 || view.getUint32(bytes.length - 4, true) !== total >>> 0) {
    return { kind: 'bad_gzip', message: 'gzip body could not be inflated: truncated or corrupt stream' };
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return { kind: 'ok', bytes: out };
}
