'use strict';
// The seed's demo server on the Node binding:
//   GET <any path>     -> 200 text/plain "You requested <uri>\n"
//   POST|PUT /echo     -> 200 with exactly the request body
//   HEAD               -> as GET without the body
// Usage: node examples/demo.js [--address ADDR] [--port N]   (127.0.0.1:8888)
const squall = require('..');

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const address = opt('--address', '127.0.0.1');
const port = Number(opt('--port', 8888));

const server = squall.createServer((req, res) => {
  const path = req.url.split('?')[0];
  if ((req.method === 'POST' || req.method === 'PUT') && path === '/echo') {
    res.setHeader('Content-Type', 'application/octet-stream');
    res.end(req.body);
  } else if (req.method === 'GET' || req.method === 'HEAD') {
    res.setHeader('Content-Type', 'text/plain');
    res.end(`You requested ${req.url}\n`);
  } else {
    res.writeHead(405, { Allow: 'GET, HEAD, POST, PUT', 'Content-Type': 'text/plain' });
    res.end('Method Not Allowed\n');
  }
});
server.listen(port, address, () => {
  console.log(`listening on http://${address}:${server.address().port}/ (libsquall ${squall.version}, loaded with koffi)`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
