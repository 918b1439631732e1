import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codec } from '../../core/codec';
import { Header, Kind, errorBody, errorHeaders, errorOf, kindHeaders, memberSubject, serviceSubject } from '../../nats/service-protocol';

const Quote = codec({ type: 'record', name: 'Quote', fields: [{ name: 'sym', type: 'string' }, { name: 'qty', type: 'int' }] } as const);
const encoded = (h: MsgHdrs): string => Buffer.from((h as unknown as { encode(): Uint8Array }).encode()).toString('latin1');
const protocol = readFileSync(join(__dirname, '..', '..', 'docs', 'PROTOCOL.md'), 'utf8');

describe('the NATS service wire (nats/service-protocol.ts) and its worked example in docs/PROTOCOL.md', () => {
  it('names the subjects as documented', () => {
    expect(serviceSubject('rxwire.', 'price')).toBe('rxwire.svc.price');
    expect(memberSubject('rxwire.', 'price', 'abc')).toBe('rxwire.svc.price.member.abc');
  });

  it('has the bytes of the worked example: the request and the reply', () => {
    const request = headers();
    request.set(Header.ACK, '1');
    request.set(Header.SCHEMA, Quote.fingerprint);
    const block = encoded(request);
    const body = Quote.encode({ sym: 'ACME', qty: 2 });
    expect(Quote.fingerprint).toBe('840a9378c390ebac6b6a22f7786e4db6d3846f5cbaa83f67c6f809153bfc7ecf');
    expect(block).toBe(`NATS/1.0\r\nRxwire-Ack: 1\r\nRxwire-Schema: ${Quote.fingerprint}\r\n\r\n`);
    expect(body.toString('hex')).toBe('0841434d4504');
    expect(protocol).toContain(`HPUB rxwire.svc.price _INBOX.K3Vb7zY2mS1sFqLe0a9NxR.1 ${block.length} ${block.length + body.length}`);

    const reply = kindHeaders(Kind.REPLY, codec('double').fingerprint);
    const replyBlock = encoded(reply);
    const value = codec('double').encode(3);
    expect(replyBlock).toBe(`NATS/1.0\r\nRxwire-Kind: reply\r\nRxwire-Schema: ${codec('double').fingerprint}\r\n\r\n`);
    expect(value.toString('hex')).toBe('0000000000000840');
    expect(protocol).toContain(`${codec('double').fingerprint}`);
    expect(protocol).toContain(` ${replyBlock.length} ${replyBlock.length + value.length}␍␊`);
  });

  it('carries an error in headers and body, escaping %, CR and LF, and reads it back', () => {
    const error = { name: 'RangeError', message: 'bad qty\r\n100%25 sure ✓', code: 'E_QTY', stack: 'RangeError: bad\n    at x' };
    const h = errorHeaders(error);
    expect(h.get(Header.KIND)).toBe(Kind.ERROR);
    expect(h.get(Header.ERROR_MESSAGE)).toBe('bad qty%0D%0A100%2525 sure ✓');
    expect(encoded(h)).not.toMatch(/qty\r\n100/);
    expect(errorOf(h, errorBody(error))).toEqual(error);
    const bare = errorHeaders({ name: 'Error', message: 'x', code: null, stack: null });
    expect(bare.has(Header.ERROR_CODE)).toBe(false);
    expect(errorOf(bare, errorBody({ name: 'Error', message: 'x', code: null, stack: null }))).toEqual({ name: 'Error', message: 'x', code: null, stack: null });
  });
});
