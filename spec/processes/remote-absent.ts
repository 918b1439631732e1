/** An entry this node has and the child nodes lack: the module throws when a child node (RXWIRE_REMOTE_CHILD) loads it. */
import { map } from 'rxjs';
import { codec } from '../../core/codec';
import { entry } from '../../processes/entry';

if (process.env.RXWIRE_REMOTE_CHILD) throw new Error('this module is not deployed on the remote node');

const Long = codec('long');

/** Answers requests with the number (it never runs on a child node). */
export const absent = entry(__filename, 'absent', { capture: Long, mailbox: Long, reply: Long }, (_, mailbox) => mailbox.letters.pipe(map((l) => l.reply(l.message))));

