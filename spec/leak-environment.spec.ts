/**
 * spec/leak-environment.js (every test file's environment, jest.config.js)
 * fails a file that leaves something keeping the process alive: shown here
 * on an environment of its own, set up and torn down around a server left
 * listening, and around one closed in time.
 */
import { createServer, type Server } from 'node:net';

const Environment = require('./leak-environment.js');

function environment(testPath: string) {
  return new Environment(
    { globalConfig: {}, projectConfig: { testEnvironmentOptions: {} } },
    { console, docblockPragmas: {}, testPath },
  );
}

function listening(): Promise<Server> {
  const server = createServer();
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('the leak-checking test environment', () => {
  it('fails a file that left a server listening, naming the file and what it left', async () => {
    const env = environment('/x/leaky.spec.ts');
    await env.setup();
    const server = await listening();
    try {
      await expect(env.teardown()).rejects.toThrow(/\/x\/leaky\.spec\.ts left open after its last test: TCPServerWrap ×1/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }, 20_000);

  it('passes a file whose server closes while the check waits (closing is asynchronous)', async () => {
    const env = environment('/x/tidy.spec.ts');
    await env.setup();
    const server = await listening();
    setTimeout(() => server.close(), 200);
    await expect(env.teardown()).resolves.toBeUndefined();
  });
});
