/**
 * jest's node environment, plus the house rule "no leaks": a test file
 * fails if, once it and all its hooks have run, it left anything keeping
 * the process alive that was not there before it — a socket, a server, a
 * child process, a worker, a ref'd timer. (jest's workers run many files
 * each: a leak there showed only as "A worker process has failed to exit
 * gracefully" at the end of a whole run, naming no file.)
 *
 * Counted by `process.getActiveResourcesInfo()` (what keeps the event loop
 * alive, by kind). Closing is often asynchronous (a socket's close event, a
 * worker's exit): the check waits up to LEAK_WAIT_MS (5 s;
 * RXWIRE_LEAK_WAIT_MS) for the counts to come back before it fails.
 * spec/leak-environment.spec.ts shows that it bites.
 */
const { TestEnvironment } = require('jest-environment-node');

const LEAK_WAIT_MS = Number(process.env.RXWIRE_LEAK_WAIT_MS ?? 5000);

/**
 * Kinds of resources a file must not leave behind. Not watched: pipes (the
 * worker's own stdout and stderr open lazily, on a file's first write; a
 * leaked child's pipes come with its ProcessWrap) and requests in flight.
 */
const WATCHED = /^(TCP|ProcessWrap|Worker|MessagePort|Timeout|Immediate|UDP|Signal|FSEvent|StatWatcher)/;

function counts() {
  const out = new Map();
  for (const kind of process.getActiveResourcesInfo()) {
    if (WATCHED.test(kind)) out.set(kind, (out.get(kind) ?? 0) + 1);
  }
  return out;
}

/** What `now` holds more of than `before`, as "kind ×n". */
function extra(before, now) {
  const left = [];
  for (const [kind, n] of now) {
    const more = n - (before.get(kind) ?? 0);
    if (more > 0) left.push(`${kind} ×${more}`);
  }
  return left;
}

class LeakCheckingEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.testPath = context.testPath;
  }

  async setup() {
    await super.setup();
    this.before = counts();
  }

  async teardown() {
    await super.teardown();
    const deadline = Date.now() + LEAK_WAIT_MS;
    let left = extra(this.before, counts());
    while (left.length > 0 && Date.now() < deadline) {
      // The wait's own timer is gone again by the time the counts are taken.
      await new Promise((resolve) => setTimeout(resolve, 25));
      left = extra(this.before, counts());
    }
    if (left.length > 0) {
      throw new Error(`${this.testPath} left open after its last test: ${left.join(', ')} (spec/leak-environment.js)`);
    }
  }
}

module.exports = LeakCheckingEnvironment;
