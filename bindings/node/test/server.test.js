'use strict';
// node --test: the koffi binding against real clients (curl, raw sockets)
// on 127.0.0.1.  libsquall comes from $SQUALL_LIB or the loader's search
// (ctest.sh sets LD_LIBRARY_PATH to the build directory).
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFile, spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');
const squall = require('..');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

// The clients run without the ASan runtime that an ASan build of libsquall
// has preloaded into node (ctest.sh).
const clientEnv = { ...process.env };
delete clientEnv.LD_PRELOAD;

function curl(...args) {
  return new Promise((resolve) => {
    execFile('curl', ['--silent', '--show-error', '--max-time', '120', ...args],
             { encoding: 'buffer', maxBuffer: 64 << 20, env: clientEnv },
             (err, stdout, stderr) => resolve({ code: err ? err.code : 0, out: stdout, err: stderr.toString() }));
  });
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

function close(server) {
  return new Promise((resolve) => server.close(resolve));
}

const errors = [];
const held = [];
const server = squall.createServer({ onError: (e) => errors.push(e) }, async (req, res) => {
  const u = new URL(req.url, 'http://x');
  switch (u.pathname) {
    case '/echo':
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end(req.body);
      return;
    case '/stream-echo': { // the body through Node's stream habits
      const chunks = [];
      for await (const c of req) chunks.push(c);
      res.end(Buffer.concat(chunks));
      return;
    }
    case '/headers':
      res.setHeader('X-Echo-Back', req.headers['x-echo'] || '');
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.statusCode = 201;
      res.end(JSON.stringify({ headers: req.headers, raw: req.rawHeaders.length }));
      return;
    case '/fail':
      throw new Error('the /fail route failed on purpose');
    case '/fail-async':
      await new Promise((r) => setTimeout(r, 10));
      throw new Error('async failure');
    case '/later':
      await new Promise((r) => setTimeout(r, Number(u.searchParams.get('ms') || 50)));
      res.end('later\n');
      return;
    case '/stream':
      res.setHeader('Content-Type', 'text/plain');
      res.write('one,');
      setTimeout(() => { res.write('two,'); res.end('three\n'); }, 20);
      return;
    case '/hold':
      res.on('close', () => held.closed.push(res));
      held.push(res);
      return;
    default:
      res.setHeader('Content-Type', 'text/plain');
      res.end(`You requested ${req.url}\n`);
  }
});
held.closed = [];
let base;

test.before(async () => { base = await listen(server); });
test.after(() => close(server));

test('GET', async () => {
  const r = await curl('-i', `${base}/some/where?x=1`);
  assert.equal(r.code, 0, r.err);
  const [head, body] = r.out.toString().split('\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 200/);
  assert.match(head, /content-type: text\/plain/i);
  assert.equal(body, 'You requested /some/where?x=1\n');
});

test('POST and PUT echo of 1 MiB', async () => {
  const data = crypto.randomBytes(1 << 20);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'squall-node-')), 'body');
  fs.writeFileSync(file, data);
  try {
    for (const [method, route] of [['POST', '/echo'], ['PUT', '/echo'], ['POST', '/stream-echo']]) {
      const r = await curl('-X', method, '--data-binary', `@${file}`, `${base}${route}`);
      assert.equal(r.code, 0, r.err);
      assert.ok(r.out.equals(data), `${method} ${route}: ${r.out.length} bytes back`);
    }
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true });
  }
});

test('headers in and out', async () => {
  const r = await curl('-i', '-H', 'X-Echo: café ok', '-H', 'X-Twice: 1', '-H', 'X-Twice: 2', `${base}/headers`);
  assert.equal(r.code, 0, r.err);
  const [head, body] = r.out.toString().split('\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 201/);
  assert.match(head, /^X-Echo-Back: café ok\r?$/m);
  assert.match(head, /^Set-Cookie: a=1\r?$/m);
  assert.match(head, /^Set-Cookie: b=2\r?$/m);
  const seen = JSON.parse(body);
  assert.equal(seen.headers['x-echo'], 'café ok');
  assert.equal(seen.headers['x-twice'], '1, 2');
  assert.equal(seen.raw, 2 * Object.keys(seen.headers).length + 2);
  const bad = await curl('-i', `${base}/x`, '-H', 'X-Echo: ok');
  assert.equal(bad.code, 0);
});

test('streamed response (write, then end later)', async () => {
  const r = await curl('-i', `${base}/stream`);
  const [head, body] = r.out.toString().split('\r\n\r\n');
  assert.match(head, /transfer-encoding: chunked/i);
  assert.equal(body, 'one,two,three\n');
});

test('keep-alive: one connection for ten requests', async () => {
  const urls = Array.from({ length: 10 }, (_, i) => `${base}/k${i}`);
  const r = await curl('-w', '%{num_connects}\n', ...urls);
  const text = r.out.toString();
  for (let i = 0; i < 10; i++) assert.ok(text.includes(`You requested /k${i}\n`));
  const connects = text.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
  assert.equal(connects.reduce((a, b) => a + b, 0), 1);
});

function pipelined(port, n) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const bodies = [];
    s.on('connect', () => {
      let reqs = '';
      for (let i = 0; i < n; i++) reqs += `GET /p${i} HTTP/1.1\r\nHost: x\r\n\r\n`;
      s.write(reqs);
    });
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) break;
        const len = Number(/content-length: (\d+)/i.exec(buf.subarray(0, end).toString())[1]);
        if (buf.length < end + 4 + len) break;
        bodies.push(buf.subarray(end + 4, end + 4 + len).toString());
        buf = buf.subarray(end + 4 + len);
      }
      if (bodies.length === n) { s.end(); resolve(bodies); }
    });
    s.on('error', reject);
  });
}

test('pipelining, and requests arrive in batches', async () => {
  const n = 64;
  const before = server.stats();
  const got = await pipelined(server.address().port, n);
  assert.deepEqual(got, Array.from({ length: n }, (_, i) => `You requested /p${i}\n`));
  // Several connections at once: their requests share wake-ups.
  const b0 = server.stats();
  await Promise.all(Array.from({ length: 8 }, () => pipelined(server.address().port, n)));
  const b1 = server.stats();
  assert.equal(b1.requests - b0.requests, 8 * n);
  assert.ok(b1.batches - b0.batches < 8 * n, `${b1.batches - b0.batches} wake-ups for ${8 * n} requests`);
  assert.ok(before.requests < b1.requests);
});

test('a failing handler: 500, the server keeps serving, the error reaches the hook', async () => {
  errors.length = 0;
  for (const route of ['/fail', '/fail-async']) {
    const r = await curl('-i', `${base}${route}`);
    assert.match(r.out.toString(), /^HTTP\/1\.1 500/);
  }
  const ok = await curl(`${base}/after-fail`);
  assert.equal(ok.out.toString(), 'You requested /after-fail\n');
  assert.equal(errors.length, 2);
  assert.match(errors[0].message, /failed on purpose/);
  assert.match(errors[0].stack, /server\.test\.js/);
  assert.equal(errors[0].status, 500);
  assert.equal(errors[0].request, 'GET /fail');
  assert.match(errors[1].message, /async failure/);
});

test('a response completed later (setTimeout / Promise), loop not blocked', async () => {
  const t0 = Date.now();
  const later = curl(`${base}/later?ms=400`);
  const meanwhile = await curl(`${base}/meanwhile`);
  assert.equal(meanwhile.out.toString(), 'You requested /meanwhile\n');
  assert.ok(Date.now() - t0 < 400, 'the quick request waited for the slow one');
  const r = await later;
  assert.equal(r.out.toString(), 'later\n');
  assert.ok(Date.now() - t0 >= 380);
});

test('20,000 requests: no growth of live objects or RSS', async () => {
  const burst = async (n, tag) => {
    const r = await curl('-o', '/dev/null', '-w', '%{http_code}\n', `${base}/${tag}[1-${n}]`);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.toString().split('\n').filter((l) => l === '200').length, n);
  };
  await burst(2000, 'warm');
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const rss0 = process.memoryUsage().rss;
  await burst(20000, 'n');
  await new Promise((r) => setImmediate(r));
  gc();
  const heap1 = process.memoryUsage().heapUsed;
  const rss1 = process.memoryUsage().rss;
  const s = server.stats();
  assert.equal(s.live, held.length, 'responses not ended');
  assert.equal(s.watched, held.length - held.closed.length);
  assert.ok(heap1 - heap0 < 2 << 20, `heap grew ${heap1 - heap0} bytes`);
  if (!process.env.SQUALL_UNDER_ASAN) { // ASan's quarantine keeps freed memory
    assert.ok(rss1 - rss0 < 24 << 20, `RSS grew ${rss1 - rss0} bytes`);
  }
});

test('the server freed while requests are pending', async () => {
  const srv = squall.createServer((req, res) => {
    res.on('close', () => closed.push(res));
    pending.push(res);
  });
  const pending = [];
  const closed = [];
  const url = await listen(srv);
  const clients = Array.from({ length: 3 }, () => spawn('curl', ['--silent', '--max-time', '60', `${url}/hold`], { env: clientEnv }));
  const exits = clients.map((c) => new Promise((r) => c.on('exit', r)));
  while (pending.length < 3) await new Promise((r) => setTimeout(r, 20));
  const released = await close(srv);
  assert.deepEqual(released.sort(), ['errorHook', 'server']);
  assert.equal(closed.length, 3, 'each pending response saw its close');
  for (const res of pending) res.end('too late'); // no throw: the connection is gone
  assert.equal(srv.stats().live, 0);
  for (const code of await Promise.all(exits)) assert.notEqual(code, 0);
});
