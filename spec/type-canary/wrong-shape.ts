// Must NOT compile: spec/typecheck.spec.ts proves the type checks can fail.
import { codec } from '../../core/codec';

const Trade = codec({ type: 'record', name: 'Trade', fields: [{ name: 'id', type: 'long' }] } as const);
Trade.encode({ id: 'not a number' });
