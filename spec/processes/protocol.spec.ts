/**
 * Typed protocols at run time, between processes on two real worker
 * threads (the server on worker 0, the client on worker 1): a protocol
 * completed, with choice and recursion; a protocol dropped early by either
 * side (a typed error on the other, never a hang); another protocol; a
 * state used twice. The compile-time half is spec/types/protocol-types.ts.
 */
import { end, loop, offer, protocol, recv, send, startNode, type ProcessNode } from '../../processes/index';
import { codec } from '../../core/codec';
import { Adder, client, Doubling, Naming, server, Summing } from './protocol-entries';
import { probe } from './protocol-probe';

const WAIT = { timeout: 60_000 };

describe('typed protocols: declarations', () => {
  it('a side and the dual of the other agree, whichever way each was declared', () => {
    expect(Adder.dual().fingerprint).toBe(Summing.fingerprint);
    expect(Summing.dual().fingerprint).toBe(Adder.fingerprint);
    expect(Doubling.dual().dual().fingerprint).toBe(Doubling.fingerprint);
    expect(Doubling.dual().fingerprint).not.toBe(Doubling.fingerprint);
    expect(Naming.dual().fingerprint).not.toBe(Doubling.dual().fingerprint);
  });

  it('refuses a loop that is only its own placeholder, and a choice without branches', () => {
    expect(() => loop((again) => again)).toThrow(TypeError);
    expect(() => offer({})).toThrow(TypeError);
    expect(protocol('ok', send(codec('int'), recv(codec('int'), end))).name).toBe('ok');
  });

  it('refuses what is not a declaration with a TypeError naming it, at the declaration, not at run time', () => {
    expect(() => protocol('x', {} as never)).toThrow(/protocol: start must be a protocol step/);
    expect(() => protocol('x', null as never)).toThrow(/protocol: start/);
    expect(() => protocol(123 as never, end)).toThrow(/protocol: name/);
    expect(() => send({} as never, end)).toThrow(/send: codec must be a codec/);
    expect(() => recv(codec('int'), undefined as never)).toThrow(/recv: next/);
    expect(() => offer(null as never)).toThrow(/offer: branches/);
    expect(() => offer({ a: 5 } as never)).toThrow(/offer: branch "a"/);
  });
});

describe('typed protocols between processes on two threads', () => {
  let node: ProcessNode;
  beforeAll(async () => {
    node = startNode({ threads: 2 });
  });
  afterAll(async () => {
    await node?.close();
  });

  /** Runs a server (on worker 0) and a client (on worker 1) in the given modes; resolves with the `lines` lines they report, sorted. */
  async function play(serverMode: string, clientMode: string, numbers: number[], lines: number): Promise<string[]> {
    const watcher = node.spawn(probe, null, { placement: { thread: 0 } });
    try {
      const them = node.spawn(server, { probe: watcher.ref, peer: null, mode: serverMode, numbers: [] }, { placement: { thread: 0 } });
      // Both run before the client starts: a process is spawned on its thread by a message
      // from this one, which a message from the client's thread could overtake.
      expect(await them.isAlive()).toBe(true);
      node.spawn(client, { probe: watcher.ref, peer: them.ref, mode: clientMode, numbers }, { placement: { thread: 1 } });
      return (await watcher.request(`wait ${lines}`, WAIT)).sort();
    } finally {
      watcher.kill();
    }
  }

  it('completes a protocol: the client sends, the server answers, both close', async () => {
    expect(await play('double', 'double', [21], 4)).toEqual(['client: closed', 'client: got 42', 'server: closed', 'server: got 21']);
  });

  it('completes a recursive protocol with choices', async () => {
    expect(await play('sum', 'sum', [1, 2, 3.5], 2)).toEqual(['client: total 6.5, closed', 'server: total 6.5, closed']);
  });

  it('a server that ends before answering: the client gets ProtocolDroppedError, not a hang', async () => {
    expect(await play('vanish', 'double', [21], 2)).toEqual(['client: ProtocolDroppedError ERR_RXWIRE_PROTOCOL_DROPPED normal', 'server: got 21']);
  });

  it('a server that throws before answering: the client gets ProtocolDroppedError (failed)', async () => {
    expect(await play('crash', 'double', [21], 2)).toEqual(['client: ProtocolDroppedError ERR_RXWIRE_PROTOCOL_DROPPED failed', 'server: got 21']);
  });

  it('a client that ends before the end: the server gets ProtocolDroppedError when it closes', async () => {
    const lines = await play('double', 'vanish', [21], 2);
    expect(lines[0]).toMatch(/^server: ProtocolDroppedError ERR_RXWIRE_PROTOCOL_DROPPED (normal|noproc)$/);
    expect(lines[1]).toBe('server: got 21');
  });

  it('another protocol: the server refuses it (ProtocolError) and the client hears (ProtocolDroppedError)', async () => {
    expect(await play('double', 'naming', [21], 2)).toEqual([
      'client: ProtocolDroppedError ERR_RXWIRE_PROTOCOL_DROPPED dropped',
      'server: ProtocolError ERR_RXWIRE_PROTOCOL',
    ]);
  });

  it('a receive called off by its AbortSignal rejects with the reason and drops the session: the server hears', async () => {
    expect(await play('double', 'abort', [21], 3)).toEqual(['client: AbortError', 'server: ProtocolDroppedError ERR_RXWIRE_PROTOCOL_DROPPED dropped', 'server: got 21']);
  });

  it('a receive called off with a reason that is no Error (null) rejects with it and still drops the session: the server hears at once', async () => {
    // The client stays alive after: 'dropped' (not 'normal') is the DROP it sent.
    expect(await play('double', 'abort-null', [21], 3)).toEqual(['client: null', 'server: ProtocolDroppedError ERR_RXWIRE_PROTOCOL_DROPPED dropped', 'server: got 21']);
  });

  it('a session dropped before its answer leaves nothing in the mailbox: the answer and CLOSE that come after are dropped', async () => {
    expect(await play('again', 'abort-again', [21], 4)).toEqual([
      'client: got 42, closed, 0 left in the mailbox',
      'server: closed',
      'server: first ProtocolDroppedError ERR_RXWIRE_PROTOCOL_DROPPED dropped',
      'server: got 21',
    ]);
  });

  it('a session dropped with messages of it still queued removes them from the mailbox', async () => {
    expect(await play('drop-queued', 'sum', [1, 2, 3.5], 2)).toEqual([
      'client: ProtocolDroppedError ERR_RXWIRE_PROTOCOL_DROPPED dropped',
      'server: called off, 0 left in the mailbox',
    ]);
  });

  it('a receive given bad options is refused (TypeError, RangeError) and the state, and the session, go on', async () => {
    expect(await play('double', 'bad-options', [21], 7)).toEqual([
      'client: RangeError',
      'client: TypeError',
      'client: TypeError',
      'client: closed',
      'client: got 42',
      'server: closed',
      'server: got 21',
    ]);
  });

  it('accept given a misspelt option is refused with TypeError, and a later accept takes the session', async () => {
    expect(await play('bad-accept', 'double', [21], 5)).toEqual(['client: closed', 'client: got 42', 'server: TypeError', 'server: closed', 'server: got 21']);
  });

  it('a send too large for the rings is a FrameError and leaves the state usable: the session completes', async () => {
    expect(await play('length', 'too-big', [], 4)).toEqual(['client: FrameError ERR_RXWIRE_FRAME', 'client: got 5, closed', 'server: closed', 'server: got hello']);
  });

  it('a process that opens a session with itself is refused (ProtocolError): it would take its own messages as answers', async () => {
    expect(await play('double', 'self', [], 1)).toEqual(['client: ProtocolError ERR_RXWIRE_PROTOCOL']);
  });

  it('a state used twice throws ProtocolError; the server then sees the client leave', async () => {
    const lines = await play('double', 'twice', [21], 3);
    expect(lines[0]).toBe('client: ProtocolError ERR_RXWIRE_PROTOCOL');
    expect(lines[1]).toMatch(/^server: ProtocolDroppedError ERR_RXWIRE_PROTOCOL_DROPPED (normal|noproc)$/);
    expect(lines[2]).toBe('server: got 21');
  });
});
