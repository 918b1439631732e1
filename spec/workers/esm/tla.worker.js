// An ES module in a "type": "module" package, with a top-level await: `require` cannot load it, `import()` can.
const factor = await Promise.resolve(10);

export default function (worker, args) {
  return { index: worker.index, times: worker.index * factor * args.factor };
}
