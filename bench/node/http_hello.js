'use strict';
// The peer: the same hello server on node's own http module.
// Usage: node http_hello.js PORT
const http = require('node:http');
const BODY = Buffer.from('Hello, world!\n');
const server = http.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.setHeader('Content-Length', BODY.length);
  res.end(BODY);
});
server.keepAliveTimeout = 3600 * 1000;
server.listen(Number(process.argv[2] || 8080), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => process.exit(0));
