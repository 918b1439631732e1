/**
 * A bare runner for spec/threads/start.spec.ts: calls the user's function
 * with its setup and index, and has nothing to close on release.
 */
export async function run(userExport: (setup: unknown, index: number) => unknown, setup: unknown, index: number) {
  return { value: await userExport(setup, index), release: () => {} };
}
