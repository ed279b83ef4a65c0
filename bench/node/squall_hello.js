'use strict';
// Hello server over the koffi binding: every request gets 200 text/plain
// "Hello, world!\n" (Content-Length).  Usage: node squall_hello.js PORT
const squall = require('../../bindings/node');
const BODY = Buffer.from('Hello, world!\n');
const server = squall.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end(BODY);
});
server.listen(Number(process.argv[2] || 8080), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGINT', () => server.close(() => process.exit(0)));
