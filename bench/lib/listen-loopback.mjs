// Preloaded into a peer gateway with `node --import file:///…/listen-loopback.mjs server.js`.
// Peers such as the Portkey OSS gateway listen on every interface and have no host option; this keeps
// them on 127.0.0.1 by rewriting the host of any TCP listen() call that names no host or a wildcard one.
import net from 'node:net';

const HOST = '127.0.0.1';
const WILDCARDS = new Set([undefined, null, '', '0.0.0.0', '::', '[::]']);
const listen = net.Server.prototype.listen;

net.Server.prototype.listen = function listenOnLoopback(...args) {
  const [first] = args;
  if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    // listen({ port, host, ... }) – leave unix sockets and inherited handles alone.
    if (first.path === undefined && first.fd === undefined && first.handle === undefined && WILDCARDS.has(first.host)) {
      args[0] = { ...first, host: HOST };
    }
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, callback])
    if (args.length < 2 || typeof args[1] === 'function' || typeof args[1] === 'number') {
      args.splice(1, 0, HOST);
    } else if (WILDCARDS.has(args[1])) {
      args[1] = HOST;
    }
  }
  return listen.apply(this, args);
};
