/**
 * The one record two nodes of a cluster exchange: every spawn, message,
 * request, reply, link, monitor, exit and registry question between them is
 * a NodeFrame on the channel `rxwire.node` of the TCP connection that links
 * them (one connection per pair of nodes, dialled by either). `to` and
 * `thread` name a process of the receiving node, `from` and `fromThread` one
 * of the sending node; which fields a kind uses is listed at
 * {@link NodeKind}, the others are 0 or empty. docs/PROTOCOL.md, "Remote
 * processes", gives the bytes.
 */
import { Buffer } from 'node:buffer';
import { codec, type Codec } from '../core/codec';

/** The kinds of NodeFrame, with the fields each one uses. */
export const NodeKind = {
  /** First frame each way: `text` = the sender's node id, `thread` = its own thread's index, `n` = the id block it grants the receiver's spawns. */
  HELLO: 1,
  /** Start process `to` on `thread` (an id of the granted block): `text` = module + '\n' + export + '\n' + name to register, `body` = capture, `from`/`fromThread` = parent to link (0: none), `tag` = link tag, `n` = mailbox bound, `call` = flags (1: trap exits). */
  SPAWN: 2,
  /** A message to `to`: `tag`, `body` (mailbox codec). */
  MSG: 3,
  /** A request to `to`: as MSG, plus `call` (the asker's call id) and `n` (its timeout, ms). */
  REQUEST: 4,
  /** The reply to `call`: `body` (reply codec). */
  REPLY: 5,
  /** No reply to `call`: `text` = the target's exit reason (ProcessExitedError), or empty and `body` = an ErrorRecord. */
  REPLY_ERROR: 6,
  /** Link `to` with `from`/`fromThread`: `tag` = the link's tag. */
  LINK: 7,
  /** Remove the link between `to` and `from`. */
  UNLINK: 8,
  /** Linked process `from`/`fromThread` ended: `to` = the process linked to it, `text` = reason, `body` = ErrorRecord or empty. */
  EXIT: 9,
  /** Monitor `to` for the sender: `tag` = the sender's monitor id. */
  MONITOR: 10,
  /** Remove monitor `tag` from `to`. */
  DEMONITOR: 11,
  /** Monitored process `from`/`fromThread` ended: `tag` = monitor id, `text` = reason, `body` = ErrorRecord or empty. */
  DOWN: 12,
  /** Kill `to`. */
  KILL: 13,
  /** Register `to` as `text`; answered by ANSWER to `call`. */
  REGISTER: 14,
  /** Who is `text` in your registry? Answered by ANSWER to `call` (`n` = thread or -1, `from` = id). */
  LOOKUP: 15,
  /** Is `to` alive? Answered by ANSWER to `call` (`n` = 1 or 0). */
  ALIVE: 16,
  /** The answer to `call`: `n`, `from`, `text` as the question says (`text` = the refusing error's name, or empty). */
  ANSWER: 17,
  /** The sender's loads: `text` = the live processes of each of its threads, its own thread last, as decimal numbers joined by ','. Sent after HELLO and every 200 ms while they change. */
  LOAD: 18,
} as const;

/** One frame between two nodes. */
export interface NodeFrame {
  kind: number;
  call: number;
  to: number;
  thread: number;
  from: number;
  fromThread: number;
  tag: number;
  n: number;
  text: string;
  body: Buffer;
}

/** The Avro codec of a NodeFrame (record `rxwire.NodeFrame`). */
export const NodeFrameCodec: Codec<NodeFrame> = codec(
  {
    type: 'record',
    name: 'rxwire.NodeFrame',
    fields: [
      { name: 'kind', type: 'int' },
      { name: 'call', type: 'long' },
      { name: 'to', type: 'long' },
      { name: 'thread', type: 'int' },
      { name: 'from', type: 'long' },
      { name: 'fromThread', type: 'int' },
      { name: 'tag', type: 'long' },
      { name: 'n', type: 'long' },
      { name: 'text', type: 'string' },
      { name: 'body', type: 'bytes' },
    ],
  } as const,
  { validate: false },
);

const EMPTY = Buffer.alloc(0);

/** A frame of `kind` with the given fields (the rest 0 or empty). */
export function nodeFrame(kind: number, fields: Partial<NodeFrame>): NodeFrame {
  return { kind, call: 0, to: 0, thread: 0, from: 0, fromThread: 0, tag: 0, n: 0, text: '', body: EMPTY, ...fields };
}

/** The channel name two nodes talk on. */
export const NODE_CHANNEL = 'rxwire.node';

/**
 * Ids of processes a peer spawns on this node: its granted block `slot`
 * (from HELLO), within this node's own thread's id space, above the ids
 * the thread makes itself (those count from 1 and stay below 2^31):
 * `thread × 2^32 + 2^31 + slot × 2^22 + k`, k from 1 to 2^22 − 1.
 */
export const SPAWN_BLOCK = { base: 2 ** 31, slotSpan: 2 ** 22, slots: 2 ** 9 } as const;

/**
 * Spawn counters of a node's links to other nodes: Int32 slots after the
 * live counts in the node's shared buffer (`Scheduler.spawnCounters`), one
 * per link (each new link takes the next slot in turn that no link up now
 * holds, reset to 0; with all LINK_COUNTERS held a node links no more),
 * so that every thread of the node takes the `k` of its remote spawns from
 * the one block the other node granted.
 */
export const LINK_COUNTERS = 256;
