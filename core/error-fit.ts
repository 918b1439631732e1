/**
 * Fitting text and errors into a link's limits: an ending is always
 * delivered, and an error's size is no reason to lose it.
 */
import { Buffer } from 'node:buffer';
import type { ErrorData } from './errors';
import { ErrorRecord } from './frame';

/** The longest prefix of `text` whose UTF-8 form fits `bytes`, whole characters only. */
export function truncateUtf8(text: string, bytes: number): string {
  let cut = Math.min(text.length, bytes);
  while (cut > 0 && Buffer.byteLength(text.slice(0, cut)) > bytes) cut = Math.floor(cut * 0.9);
  if (cut > 0 && /[\uD800-\uDBFF]/.test(text[cut - 1])) cut--;
  return text.slice(0, cut);
}

/**
 * `data` as an ERROR body of at most `maxBytes` (a transport's largest body):
 * whole if it fits; else without its stack; else with its name and code cut
 * to 256 bytes each (an eighth of `maxBytes` if less) and its message to
 * what is left. An ending is always delivered: an error's size is no
 * reason to lose it (docs/PROTOCOL.md, "Errors as data").
 */
export function errorWithin(data: ErrorData, maxBytes: number): ErrorData {
  if (ErrorRecord.encode(data).length <= maxBytes) return data;
  const bare: ErrorData = { ...data, stack: null };
  if (ErrorRecord.encode(bare).length <= maxBytes) return bare;
  const most = Math.min(256, maxBytes >> 3); // name and code each: a small share of a small limit
  const cut: ErrorData = { name: truncateUtf8(bare.name, most), code: bare.code === null ? null : truncateUtf8(bare.code, most), message: '', stack: null };
  return { ...cut, message: truncateUtf8(data.message, Math.max(0, maxBytes - ErrorRecord.encode(cut).length - 8)) };
}
