// Preloaded (node -r ./loopback.cjs) into npm MCP servers that call listen(port) on every interface: binds them to
// 127.0.0.1 instead, and prints the bound port as "FIXTURE_PORT=<n>" so a test can start them on port 0.
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  this.once('listening', () => {
    const address = this.address();
    if (address && typeof address === 'object') process.stderr.write(`FIXTURE_PORT=${address.port}\n`);
  });
  if (typeof args[0] === 'object' && args[0] !== null && !Array.isArray(args[0])) {
    args[0] = { ...args[0], host: '127.0.0.1' };
    return listen.apply(this, args);
  }
  if (typeof args[0] === 'number' || typeof args[0] === 'string') {
    const callback = args.find((a) => typeof a === 'function');
    return listen.call(this, { port: Number(args[0]), host: '127.0.0.1' }, callback);
  }
  return listen.apply(this, args);
};
