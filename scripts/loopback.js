// Preloaded with `node -r` in front of every emulator: the Kinesis emulators
// bind all interfaces and have no host option, so force every listening
// socket onto 127.0.0.1. Tests must never listen on anything but loopback.
'use strict';
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    if (typeof args[1] === 'string') args[1] = '127.0.0.1';
    else args.splice(1, 0, '127.0.0.1');
  } else if (args[0] && typeof args[0] === 'object' && !Array.isArray(args[0]) && args[0].port !== undefined) {
    args[0] = Object.assign({}, args[0], { host: '127.0.0.1' });
  }
  return listen.apply(this, args);
};

// kinesalite and dynalite throw from a request's 'error' event ("aborted",
// ECONNRESET) when a client hangs up mid-request, which kills the whole
// emulator. Tests cancel contexts and SIGKILL consumers on purpose, so keep
// the emulator alive for those and crash on anything else.
process.on('uncaughtException', (err) => {
  if (err && (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.message === 'aborted')) {
    return;
  }
  console.error(err);
  process.exit(1);
});
