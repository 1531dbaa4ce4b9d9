// A tripwire loaded into every test process and every process a test starts (`npm test` passes
// it to the runner with --require; test/helpers/child-env.ts passes it on through NODE_OPTIONS):
// a TCP connection to port 6379 fails at once. That port is the machine's own Redis, which may
// hold someone's data; a test that forgot to point qless at its private server fails loudly
// instead of writing there.
'use strict';
const net = require('node:net');

const FORBIDDEN_PORT = 6379;
const connect = net.Socket.prototype.connect;

function portOf(args) {
  let first = args[0];
  // net.createConnection hands over its normalized arguments as one array.
  if (Array.isArray(first)) first = first[0];
  if (first !== null && typeof first === 'object') return Number(first.port);
  return Number(first);
}

net.Socket.prototype.connect = function connectUnless6379(...args) {
  if (portOf(args) === FORBIDDEN_PORT) {
    const error = new Error("tests never connect to port 6379 (the machine's own Redis): use a private redis-server");
    error.code = 'ECONNREFUSED';
    process.nextTick(() => this.destroy(error));
    return this;
  }
  return connect.apply(this, args);
};
