/**
 * One member of the `work` service, in a child process of
 * spec/nats/service-members.spec.ts: connects to the server at argv[2] and
 * serves. Tells its parent (IPC) `ready`, then, before replying to each
 * request, the request id it handled (the parent counts handling at the
 * servers from these); on `stop`, stops and exits.
 */
import { connect } from '@nats-io/transport-node';
import { codec } from '../../core/codec';
import { serve } from '../../nats';

export const WorkRequest = codec('long');
export const WorkReply = codec({ type: 'record', name: 'WorkReply', fields: [{ name: 'id', type: 'long' }, { name: 'member', type: 'int' }] } as const);

async function main(): Promise<void> {
  const nc = await connect({ servers: process.argv[2] });
  const svc = await serve(
    { nc },
    'work',
    // Recorded at the parent before the reply goes: a reply the client gets was counted here first.
    (id: number) => new Promise<{ id: number; member: number }>((resolve) => process.send!({ handled: id }, () => resolve({ id, member: process.pid }))),
    { request: WorkRequest, reply: WorkReply },
  );
  process.on('message', (message) => {
    if (message !== 'stop') return;
    void svc.stop().then(() => nc.close()).then(() => process.exit(0));
  });
  process.send!({ ready: true });
}

// Only when started as the child (the spec imports the codecs from here).
if (require.main === module) void main();
