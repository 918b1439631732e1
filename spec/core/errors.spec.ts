import * as rxwire from '../../index';
import { ErrorCode, RemoteError, RxwireError, toErrorData } from '../../core/errors';
import { ErrorRecord } from '../../core/frame';

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
    // Anything thrown, not only Errors.
    expect(toErrorData('plain')).toMatchObject({ name: 'Error', message: '"plain"' });
  });
});
