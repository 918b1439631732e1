/**
 * Fitting text and errors into a link's limits: an ending is always
 * delivered, and an error's size is no reason to lose it.
 */
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
 * to 256 bytes and its message to what is left. An ending is always
 * delivered: an error's size is no reason to lose it (docs/PROTOCOL.md,
 * "Errors as data").
 */
export function errorWithin(data: ErrorData, maxBytes: number): ErrorData {
  if (ErrorRecord.encode(data).length <= maxBytes) return data;
  const bare: ErrorData = { ...data, stack: null };
  if (ErrorRecord.encode(bare).length <= maxBytes) return bare;
  const cut: ErrorData = { name: truncateUtf8(bare.name, 256), code: bare.code === null ? null : truncateUtf8(bare.code, 256), message: '', stack: null };
  return { ...cut, message: truncateUtf8(data.message, Math.max(0, maxBytes - ErrorRecord.encode(cut).length - 8)) };
}
