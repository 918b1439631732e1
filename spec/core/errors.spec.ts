import * as rxwire from '../../index';
import { ErrorCode, RemoteError, RxwireError, toErrorData } from '../../core/errors';
import { ErrorRecord } from '../../core/frame';
import { pairOf } from '../helpers';

describe('errors', () => {
  const make: Record<string, () => RxwireError> = {
    EncodeError: () => new rxwire.EncodeError('T.x', 'int', 'a'),
    DecodeError: () => new rxwire.DecodeError('bad'),
    FrameError: () => new rxwire.FrameError('bad'),
    SchemaMismatchError: () => new rxwire.SchemaMismatchError('T.x', 'bad'),
    RemoteError: () => new rxwire.RemoteError({ name: 'E', message: 'm', code: null, stack: null }),
    QueueFullError: () => new rxwire.QueueFullError('full'),
    TransportClosedError: () => new rxwire.TransportClosedError('closed'),
    TimeoutError: () => new rxwire.TimeoutError('late'),
    WorkerError: () => new rxwire.WorkerError('died', 2, 'stack'),
    AuthError: () => new rxwire.AuthError('who'),
  };

  it.each(Object.keys(make))('%s is exported, is an Error with its name and a stable code', (name) => {
    const err = make[name]();
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(RxwireError);
    expect(err).toBeInstanceOf((rxwire as unknown as Record<string, new (...a: never[]) => Error>)[name]);
    expect(err.name).toBe(name);
    expect(Object.values(ErrorCode)).toContain(err.code);
  });

  it('every class has its own code', () => {
    const codes = Object.values(make).map((m) => m().code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('WorkerError names the worker index', () => {
    expect(new rxwire.WorkerError('died', 3, undefined).message).toBe('worker 3: died');
  });

  it('an error crosses the wire as data and keeps name, message, code and stack', () => {
    const original = Object.assign(new TypeError('bad price'), { code: 'E_PRICE' });
    const bytes = ErrorRecord.encode(toErrorData(original));
    const arrived = new RemoteError(ErrorRecord.decode(bytes));
    expect(arrived).toMatchObject({ message: 'bad price', remoteName: 'TypeError', remoteCode: 'E_PRICE', code: ErrorCode.REMOTE });
    expect(arrived.remoteStack).toBe(original.stack);
    // Forwarded again, it keeps the original identity.
    expect(toErrorData(arrived)).toMatchObject({ name: 'TypeError', code: 'E_PRICE' });
    // Anything thrown, not only Errors: a string is the message itself.
    expect(toErrorData('plain')).toEqual({ name: 'Error', message: 'plain', code: null, stack: null });
  });

  it('an Error whose fields are not strings, or cannot be read, still makes data that encodes (never a throw)', () => {
    const odd = Object.assign(new Error('m'), { name: 42 as unknown as string });
    Object.defineProperty(odd, 'message', { value: { text: 'x' } });
    odd.stack = { deep: true } as unknown as string;
    const data = toErrorData(odd);
    expect(data).toMatchObject({ name: '42', message: '[object Object]', stack: '[object Object]' });
    expect(() => ErrorRecord.encode(data)).not.toThrow();
    const hostile = new Error('h');
    Object.defineProperty(hostile, 'name', {
      get() {
        throw new Error('no');
      },
    });
    expect(toErrorData(hostile)).toEqual({ name: 'Error', message: 'a thrown value whose fields cannot be read', code: null, stack: null });
    const noText = Object.assign(new Error('n'), { name: Object.create(null) as string });
    expect(toErrorData(noText).name).toBe('Error');
  });

  it('each text is made well-formed: a lone surrogate becomes U+FFFD, so the data always encodes', () => {
    const err = Object.assign(new Error('bad "x\uD800"'), { code: 'E\uDC00' });
    err.name = 'Odd\uD83D';
    const data = toErrorData(err);
    expect(data).toMatchObject({ name: 'Odd\uFFFD', message: 'bad "x\uFFFD"', code: 'E\uFFFD' });
    expect(data.stack).not.toMatch(/\p{Cs}/u);
    expect(ErrorRecord.decode(ErrorRecord.encode(data))).toEqual(data);
    expect(toErrorData('lone \uDBFF').message).toBe('lone \uFFFD');
    expect(toErrorData({ reason: '\uD800' }).message).toBe('\uFFFD');
    // A pair is a character, not two lone halves: kept.
    expect(toErrorData(new Error('ok \uD83D\uDE00')).message).toBe('ok \uD83D\uDE00');
  });

  it('a value that is not an Error keeps its code, message or reason, and its JSON text (issue 14.7)', () => {
    const arrive = (thrown: unknown) => new RemoteError(ErrorRecord.decode(ErrorRecord.encode(toErrorData(thrown))));
    expect(arrive({ code: 1337, reason: 'x' })).toMatchObject({
      message: 'x',
      remoteName: 'Error',
      remoteCode: '1337',
      remoteStack: '{"code":1337,"reason":"x"}',
    });
    expect(arrive({ name: 'Rejected', code: 'E_LIMIT', message: 'over the limit', limit: 5 })).toMatchObject({
      message: 'over the limit',
      remoteName: 'Rejected',
      remoteCode: 'E_LIMIT',
      remoteStack: '{"name":"Rejected","code":"E_LIMIT","message":"over the limit","limit":5}',
    });
    expect(arrive({ limit: 5 })).toMatchObject({ message: '{"limit":5}', remoteCode: undefined, remoteStack: '{"limit":5}' });
    expect(arrive(42)).toMatchObject({ message: '42', remoteStack: '42' });
    expect(arrive(undefined)).toMatchObject({ message: 'undefined', remoteStack: undefined });
    const cyclic: Record<string, unknown> = { reason: 'loop' };
    cyclic.self = cyclic;
    expect(arrive(cyclic)).toMatchObject({ message: 'loop', remoteStack: undefined });
    // An Error's numeric code travels as its decimal text too.
    expect(arrive(Object.assign(new Error('m'), { code: 7 }))).toMatchObject({ remoteCode: '7' });
  });

  it.each(['port', 'shm'] as const)("error('boom') and error({ code, reason }) arrive as they were sent, over %s", async (transport) => {
    for (const [sent, expected] of [
      ['boom', { message: 'boom', remoteCode: undefined }],
      [{ code: 1337, reason: 'x' }, { message: 'x', remoteCode: '1337', remoteStack: '{"code":1337,"reason":"x"}' }],
    ] as const) {
      const [a, b] = pairOf(transport);
      const rx = rxwire.open(b, rxwire.codec('int'));
      const got = new Promise<unknown>((resolve) => rx.subscribe({ error: resolve, complete: () => resolve('completed') }));
      const tx = rxwire.open(a, rxwire.codec('int'));
      tx.next(1);
      tx.error(sent);
      const err = await got;
      expect(err).toBeInstanceOf(RemoteError);
      expect(err).toMatchObject(expected);
      tx.close();
      rx.close();
    }
  });
});
