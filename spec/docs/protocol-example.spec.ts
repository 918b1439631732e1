import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codec } from '../../core/codec';
import { FrameKind, FrameWriter, helloOf, parseFrames } from '../../core/frame';
import { CREDIT_BATCH, RpcKind, STREAM_WINDOW, credit, rpcCodec, schemas, type RpcEnvelope } from '../../operators/request-internals';
import { welcomeFrame } from '../../transports/tcp/handshake';
import { FrameParser } from '../../transports/tcp/parser';
import { ChannelHelloRecord, LongRecord, TcpKind } from '../../transports/tcp/wire';
import { frame } from '../fixtures/tcp-raw';

/*
 * docs/PROTOCOL.md's TCP worked example is a captured session; these checks
 * hold it to the code, so the document cannot drift from what runs: every
 * block is whole frames of the kinds the text names, the proofs verify, and
 * the bodies are what the encoders write.
 */

interface Frame {
  kind: number;
  channel: number;
  body: Buffer;
}

/** The hex blocks under "## TCP transport" → "### Worked example", in order, up to the next "## " section. */
function exampleBlocks(): Buffer[] {
  const doc = readFileSync(join(__dirname, '../../docs/PROTOCOL.md'), 'utf8');
  const tcp = doc.slice(doc.indexOf('## TCP transport'));
  const from = tcp.slice(tcp.indexOf('### Worked example'));
  // Up to the next top-level section: blocks of later sections are theirs.
  const next = from.search(/\n## /);
  const example = next < 0 ? from : from.slice(0, next);
  return [...example.matchAll(/```\n([0-9a-f ]+(?:\n[0-9a-f ]+)*)\n```/g)].map((m) => Buffer.from(m[1].replace(/\s+/g, ''), 'hex'));
}

function framesOf(bytes: Buffer): Frame[] {
  const out: Frame[] = [];
  const parser = new FrameParser((kind, channel, buf, start, end) => out.push({ kind, channel, body: Buffer.from(buf.subarray(start, end)) }), 1 << 20);
  parser.push(bytes);
  expect(parser.pending).toBe(0); // whole frames, nothing left over
  return out;
}

const hmac = (label: string, nc: Buffer, ns: Buffer) => createHmac('sha256', 'k').update(label).update(nc).update(ns).digest();

describe('docs/PROTOCOL.md, the TCP worked example', () => {
  const blocks = exampleBlocks();
  const frames = blocks.map(framesOf);

  it('is nine captured reads of whole frames, of the kinds the text names', () => {
    expect(frames.map((f) => f.map((x) => x.kind))).toEqual([
      [TcpKind.CONNECT],
      [TcpKind.CHALLENGE],
      [TcpKind.AUTH],
      [TcpKind.WELCOME, TcpKind.HELLO],
      [TcpKind.HELLO, TcpKind.ACK],
      [TcpKind.ACK],
      [TcpKind.NEXT],
      [TcpKind.STOP],
      [TcpKind.CLOSE],
    ]);
  });

  it('has proofs that verify with the secret "k", the client proving itself first', () => {
    const nc = frames[0][0].body.subarray(10, 42);
    const challenge = frames[1][0].body;
    expect(challenge.length).toBe(42); // a nonce and no proof
    const ns = challenge.subarray(10, 42);
    expect(frames[2][0].body.subarray(0, 32)).toEqual(hmac('rxwire client', nc, ns));
    const welcome = frames[3][0].body;
    expect(welcome.subarray(25)).toEqual(hmac('rxwire server', nc, ns));
    // And the server's encoder writes exactly that WELCOME.
    const sessionId = welcome.subarray(0, 16);
    expect(welcomeFrame(sessionId, false, 0, welcome.subarray(25))).toEqual(blocks[3].subarray(0, 4 + blocks[3].readUInt32LE(0)));
  });

  it("has the channel's HELLO, ACK, NEXT and CLOSE bodies as the encoders write them", () => {
    const str = codec('string');
    const hello = ChannelHelloRecord.encode({ name: 'greet', ...helloOf(str, 4 << 20) }); // the default window
    expect(frames[3][1]).toEqual({ kind: TcpKind.HELLO, channel: 1, body: hello });
    expect(frames[4][0]).toEqual({ kind: TcpKind.HELLO, channel: 1, body: hello });
    expect(frames[4][1]).toEqual({ kind: TcpKind.ACK, channel: 1, body: LongRecord.encode(0) });
    const item = str.encode('hi');
    expect(blocks[6]).toEqual(frame(TcpKind.NEXT, 1, Buffer.concat([LongRecord.encode(item.length), item])));
    expect(frames[7][0]).toEqual({ kind: TcpKind.STOP, channel: 1, body: Buffer.alloc(0) });
    expect(frames[8][0].body.toString()).toBe('conn.close()');
  });
});

describe('docs/PROTOCOL.md, the request/reply section', () => {
  const doc = readFileSync(join(__dirname, '../../docs/PROTOCOL.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Request/reply'));
  const example = section.slice(section.indexOf('### Worked example'));
  /** The `hex` blocks of the worked example (fenced `hex`, so the TCP example's reader above never takes them). */
  const blocks = [...example.matchAll(/```hex\n([0-9a-f ]+(?:\n[0-9a-f ]+)*)\n```/g)].map((m) => Buffer.from(m[1].replace(/\s+/g, ''), 'hex'));

  /** One port-link NEXT frame carrying `envelope`, as the frame writer and the envelope codec write it. */
  function nextFrame(envelope: RpcEnvelope): Buffer {
    const writer = new FrameWriter();
    writer.write(FrameKind.NEXT, rpcCodec(), envelope);
    return Buffer.from(writer.take());
  }

  it('gives the envelope schema exactly as rpcCodec() has it (the nested record is rxwire.RpcError)', () => {
    const json = section.match(/```json\n([\s\S]*?)\n```/)![1];
    expect(JSON.parse(json)).toEqual(rpcCodec().schema);
    expect(json).toContain('"rxwire.RpcError"');
  });

  it('gives the kinds and their numbers as RpcKind has them', () => {
    const table = [...section.matchAll(/^\| ([A-Z]+) +\| (\d+) +\|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(table)).toEqual(RpcKind);
    expect(section).toContain(`credit of **${STREAM_WINDOW}** NEXTs`);
    expect(section).toContain(`sends CREDIT ${CREDIT_BATCH} (\`CREDIT_BATCH\`)`);
  });

  it('has SCHEMA, REQUEST, REPLY, CREDIT and ERROR frames as the encoders write them', () => {
    expect(blocks).toHaveLength(5);
    expect(blocks[0]).toEqual(nextFrame(schemas(codec('string'), codec('double'))));
    expect(example).toContain(codec('string').fingerprint);
    expect(example).toContain(codec('double').fingerprint);
    expect(blocks[1]).toEqual(nextFrame({ id: 1, kind: RpcKind.REQUEST, body: codec('string').encode('ACME'), error: null }));
    expect(blocks[2]).toEqual(nextFrame({ id: 1, kind: RpcKind.REPLY, body: codec('double').encode(101.25), error: null }));
    expect(blocks[3]).toEqual(nextFrame(credit(7, 64)));
    const failed: RpcEnvelope = { id: 2, kind: RpcKind.ERROR, body: Buffer.alloc(0), error: { name: 'TypeError', message: 'no', code: 'E_X', stack: null } };
    expect(blocks[4]).toEqual(nextFrame(failed));
    // And each reads back, through the frame parser and the envelope codec, as what the text says.
    const read = blocks.map((block) => {
      const out: RpcEnvelope[] = [];
      parseFrames(block, (kind, start, end) => {
        expect(kind).toBe(FrameKind.NEXT);
        out.push(rpcCodec().decode(block, start, end));
      });
      expect(out).toHaveLength(1);
      return out[0];
    });
    expect(read.map((e) => [e.id, e.kind])).toEqual([
      [0, RpcKind.SCHEMA],
      [1, RpcKind.REQUEST],
      [1, RpcKind.REPLY],
      [7, RpcKind.CREDIT],
      [2, RpcKind.ERROR],
    ]);
    expect(read[4].error).toEqual(failed.error);
    // The byte counts the headings give.
    expect(blocks.map((b) => b.length)).toEqual([142, 14, 17, 11, 28]);
  });
});
