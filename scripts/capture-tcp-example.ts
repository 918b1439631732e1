/**
 * Captures the session shown in docs/PROTOCOL.md ("TCP transport", "Worked
 * example"): a client and a server with the secret `k`, through a recording
 * proxy on loopback. The client opens `greet` with codec('string'), the
 * server opens it too and takes one value, the client sends "hi", then
 * closes. Prints each chunk that crossed, with its direction, as hex, 32
 * bytes a line. Nonces (and so proofs and the session id) differ each run.
 *
 *   npx ts-node scripts/capture-tcp-example.ts
 */
import * as net from 'node:net';
import { once } from 'node:events';
import { firstValueFrom } from 'rxjs';
import { codec } from '../core/codec';
import { tcp } from '../transports';

function hex(bytes: Buffer): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 32) lines.push([...bytes.subarray(i, i + 32)].map((b) => b.toString(16).padStart(2, '0')).join(' '));
  return lines.join('\n');
}

async function main(): Promise<void> {
  const server = await tcp.listen({ secret: 'k' });
  const chunks: { from: 'C' | 'S'; bytes: Buffer }[] = [];
  const proxy = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: server.port });
    client.on('data', (b: Buffer) => chunks.push({ from: 'C', bytes: Buffer.from(b) }));
    upstream.on('data', (b: Buffer) => chunks.push({ from: 'S', bytes: Buffer.from(b) }));
    client.pipe(upstream).pipe(client);
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  const got = new Promise<string>((resolve) => server.connections$.subscribe((conn) => void firstValueFrom(conn.open('greet', codec('string'))).then(resolve)));
  const conn = await tcp.connect({ port: (proxy.address() as net.AddressInfo).port, secret: 'k' });
  conn.open('greet', codec('string')).next('hi');
  await got;
  await new Promise((resolve) => setTimeout(resolve, 50));
  await conn.close();
  await server.close();
  proxy.close();
  for (const { from, bytes } of chunks) console.log(`${from === 'C' ? 'C → S' : 'S → C'} (${bytes.length} bytes)\n${hex(bytes)}\n`);
}

void main();
