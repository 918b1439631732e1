import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/* docs/ARCHITECTURE.md shows the toy transport; spec/contract/toy-transport.ts is that code, which typechecks and runs. */

describe('docs/ARCHITECTURE.md', () => {
  it("shows spec/contract/toy-transport.ts exactly as it is", () => {
    const doc = readFileSync(join(__dirname, '../../docs/ARCHITECTURE.md'), 'utf8');
    const toy = readFileSync(join(__dirname, '../contract/toy-transport.ts'), 'utf8');
    const shown = doc.slice(doc.indexOf('## A toy transport')).match(/```ts\n([\s\S]*?)```/);
    expect(shown?.[1]).toBe(toy);
  });
});
