import { gunzip } from 'node:zlib';

/**
 * Reading request bodies with hard limits. Hostile input must cost bounded memory: a huge body
 * is refused by its Content-Length or cut off while streaming, and a gzip bomb stops inflating
 * as soon as its output passes the limit.
 *
 * @typedef {{ kind: 'ok', body: Buffer }
 *   | { kind: 'too_large', message: string }
 *   | { kind: 'aborted' }} BodyResult
 */

/**
 * @param {import('node:http').IncomingMessage} req
 * @param {number} maxBytes
 * @param {(bytes: number) => void} [onBytes] told about every chunk, kept or not (for stats)
 * @returns {Promise<BodyResult>}
 */
export function readBody(req, maxBytes, onBytes = () => {}) {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    return Promise.resolve(tooLarge(`Content-Length ${declared} is over the limit of ${maxBytes} bytes`));
  }
  return new Promise((resolve) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let received = 0;
    /** @param {BodyResult} result */
    const finish = (result) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      resolve(result);
    };
    /** @param {Buffer} chunk */
    const onData = (chunk) => {
      received += chunk.length;
      onBytes(chunk.length);
      if (received > maxBytes) {
        // Stop buffering at once; the caller answers 413 and then lets the rest go.
        chunks.length = 0;
        req.pause();
        finish(tooLarge(`body is over the limit of ${maxBytes} bytes`));
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = () => finish({ kind: 'ok', body: Buffer.concat(chunks, received) });
    const onClose = () => finish({ kind: 'aborted' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
  });
}

/**
 * After a 413 the client may still be sending. Drain (and discard) what is in flight so the
 * client reads our reply instead of a connection reset, close the connection after the reply,
 * and destroy a socket still sending `graceMs` after it.
 *
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {number} [graceMs]
 */
export function discardRest(req, res, graceMs = 1000) {
  if (req.complete) return;
  res.shouldKeepAlive = false;
  req.resume();
  res.once('finish', () => {
    if (req.complete) return;
    const timer = setTimeout(() => req.socket.destroy(), graceMs);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
  });
}

/** @param {Uint8Array} body */
export function isGzip(body) {
  return body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;
}

/**
 * Inflates gzip with an output cap. zlib's `maxOutputLength` aborts the stream as soon as the
 * output passes it (RangeError ERR_BUFFER_TOO_LARGE), so a bomb never inflates past the cap.
 *
 * @param {Buffer} body
 * @param {number} maxBytes
 * @returns {Promise<{ kind: 'ok', body: Buffer } | { kind: 'too_large', message: string }
 *   | { kind: 'bad_gzip', message: string }>}
 */
export function gunzipLimited(body, maxBytes) {
  return new Promise((resolve) => {
    gunzip(body, { maxOutputLength: maxBytes }, (error, inflated) => {
      if (!error) resolve({ kind: 'ok', body: inflated });
      else if (/** @type {NodeJS.ErrnoException} */ (error).code === 'ERR_BUFFER_TOO_LARGE') {
        resolve(tooLarge(`decompressed body is over the limit of ${maxBytes} bytes`));
      } else resolve({ kind: 'bad_gzip', message: `gzip body could not be inflated: ${error.message}` });
    });
  });
}

/**
 * @param {string} message
 * @returns {{ kind: 'too_large', message: string }}
 */
function tooLarge(message) {
  return { kind: 'too_large', message };
}
