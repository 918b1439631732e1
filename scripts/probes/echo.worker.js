// Echo worker of the probes here: opens workerData.end with the Trade codec from workerData.dir (a built dist/), options workerData.opts, and echoes every value.
const { parentPort, workerData } = require('worker_threads');
const { open } = require(workerData.dir + '/transports/open.js');
const { Trade } = require(workerData.dir + '/bench/trade.js');
const wire = open(workerData.end, Trade, workerData.opts || {});
wire.subscribe(wire);
parentPort.postMessage('ready');
