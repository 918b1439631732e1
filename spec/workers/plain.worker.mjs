// An ES module worker for initialize: loaded with import(), no TypeScript.
export default function (worker, args) {
  return { index: worker.index, peers: worker.peers, times: worker.index * args.factor };
}
