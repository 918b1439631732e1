/**
 * What typed protocols put in mailboxes: one Avro record per step, tagged
 * with its session's number (so one mailbox can carry many sessions, and
 * each side takes its session's messages by selective receive).
 *
 * A process that speaks typed protocols declares `mailbox: ProtocolMail`
 * in its entry. Bytes and meaning of each field:
 *
 * | kind   | tag         | session | step       | label                        | payload                  | from            |
 * | ------ | ----------- | ------- | ---------- | ---------------------------- | ------------------------ | --------------- |
 * | OPEN   | `OPEN_TAG`  | its number (the tag of every later message, both ways) | 0 | the opener's protocol fingerprint | empty | the opener's ProcessRef |
 * | VALUE  | session     | session | 0, 1, 2 … per direction | empty                 | the value, encoded with the step's codec | null |
 * | CHOICE | session     | session | as VALUE   | the chosen label             | empty                    | null            |
 * | CLOSE  | session     | session | as VALUE   | empty                        | empty                    | null            |
 * | DROP   | session     | session | as VALUE   | why the sender left          | empty                    | null            |
 */
import { codec, type Codec } from '../core/codec';
import { ProcessRefSchema } from './ref';
import type { ProcessRef } from './types';

/** The tag OPEN messages are sent with (a session's own tags are below it). */
export const OPEN_TAG = 2 ** 48;

/** The kinds of protocol messages. */
export type ProtocolMailKind = 'OPEN' | 'VALUE' | 'CHOICE' | 'CLOSE' | 'DROP';

/** One protocol message (see the table above). */
export interface ProtocolMail {
  readonly kind: ProtocolMailKind;
  readonly session: number;
  readonly step: number;
  readonly label: string;
  readonly payload: Buffer;
  readonly from: ProcessRef | null;
}

/** The mailbox codec of a process that speaks typed protocols. */
export const ProtocolMail: Codec<ProtocolMail> = codec({
  type: 'record',
  name: 'rxwire.ProtocolMail',
  fields: [
    { name: 'kind', type: { type: 'enum', name: 'rxwire.ProtocolMailKind', symbols: ['OPEN', 'VALUE', 'CHOICE', 'CLOSE', 'DROP'] } },
    { name: 'session', type: 'long' },
    { name: 'step', type: 'long' },
    { name: 'label', type: 'string' },
    { name: 'payload', type: 'bytes' },
    { name: 'from', type: ['null', ProcessRefSchema] },
  ],
} as const);
