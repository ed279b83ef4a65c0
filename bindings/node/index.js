'use strict';
// squall for Node.js: libsquall loaded at run time with koffi (no addon to
// compile).  The squall loop runs on its own thread (lib/loop.js, a
// worker); requests reach this thread in batches, one wake-up per batch,
// and are answered with squall's any-thread response calls.
//
//   const squall = require('squall');
//   squall.createServer((req, res) => {
//     res.setHeader('Content-Type', 'text/plain');
//     res.end(`You requested ${req.url}\n`);
//   }).listen(8888, '127.0.0.1');
const path = require('node:path');
const { EventEmitter } = require('node:events');
const { Worker } = require('node:worker_threads');
const { koffi, sq, protos, C, lastError } = require('./lib/native');

const BATCH_SLOTS = 4096; // most requests handed over in one wake-up
const EMPTY = Buffer.alloc(0);
const pOut = [null];
const nOut = [0];
const vOut = [null];
const vnOut = [0];

function field(h, which) {
  sq.squall_request_get(h, which, pOut, nOut);
  return pOut[0] || '';
}

function toBuffer(chunk, encoding) {
  if (chunk === undefined || chunk === null) return EMPTY;
  if (typeof chunk === 'string') return Buffer.from(chunk, encoding || 'utf8');
  if (Buffer.isBuffer(chunk)) return chunk;
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('squall: a body chunk must be a string, Buffer or TypedArray');
}

function errorFor(what) {
  return new Error(`squall: ${what}: ${lastError()}`);
}

// The request as Node's http.IncomingMessage shows it, read lazily from the
// request handle (valid until the response ends).  The body is whole (squall
// buffers it): req.body, or the usual 'data'/'end' events, or for await.
class IncomingMessage extends EventEmitter {
  constructor(handle) {
    super();
    this._h = handle;
    this.method = field(handle, C.REQ_METHOD);
    this.url = field(handle, C.REQ_URI);
    this._headers = null;
    this._raw = null;
    this._body = null;
    this._flowing = false;
    this.complete = true;
  }

  get httpVersion() {
    return field(this._h, C.REQ_VERSION).slice(5);
  }

  get rawHeaders() {
    if (this._raw === null) {
      const raw = [];
      sq.squall_request_header_count(this._h, nOut);
      for (let i = 0, n = Number(nOut[0]); i < n; i++) {
        sq.squall_request_header_at(this._h, i, pOut, nOut, vOut, vnOut);
        raw.push(pOut[0], vOut[0]);
      }
      this._raw = raw;
    }
    return this._raw;
  }

  // Lower-case names; repeated fields joined with ", " (set-cookie: array),
  // as node's http does.
  get headers() {
    if (this._headers === null) {
      const headers = {};
      const raw = this.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) {
        const k = raw[i].toLowerCase();
        const v = raw[i + 1];
        if (k === 'set-cookie') (headers[k] ||= []).push(v);
        else headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
      }
      this._headers = headers;
    }
    return this._headers;
  }

  get socket() {
    return { remoteAddress: field(this._h, C.REQ_REMOTE_IP) };
  }

  get body() {
    if (this._body === null) {
      sq.squall_request_body(this._h, vOut, nOut);
      const n = Number(nOut[0]);
      // Copied: squall's bytes go away when the response ends.
      this._body = n ? Buffer.from(koffi.view(vOut[0], n).slice(0)) : EMPTY;
    }
    return this._body;
  }

  on(event, listener) {
    super.on(event, listener);
    if ((event === 'data' || event === 'end') && !this._flowing) {
      this._flowing = true;
      process.nextTick(() => {
        const b = this.body;
        if (b.length) this.emit('data', b);
        this.emit('end');
      });
    }
    return this;
  }

  addListener(event, listener) {
    return this.on(event, listener);
  }

  async *[Symbol.asyncIterator]() {
    const b = this.body;
    if (b.length) yield b;
  }
}

// Node's http.ServerResponse habits: statusCode, setHeader / getHeader /
// removeHeader, writeHead, write (streams: chunked), end; 'finish' and
// 'close' events (asked of squall only when someone listens).
class ServerResponse extends EventEmitter {
  constructor(server, handle, req) {
    super();
    this._server = server;
    this._h = handle;
    this.req = req;
    this.statusCode = 200;
    this._fields = null; // lower-case name -> [name, value]
    this.headersSent = false;
    this.writableEnded = false;
    this._doneAsked = false;
  }

  setHeader(name, value) {
    if (this.headersSent) throw new Error('squall: headers already sent');
    (this._fields ||= new Map()).set(String(name).toLowerCase(), [String(name), value]);
    return this;
  }

  getHeader(name) {
    const f = this._fields && this._fields.get(String(name).toLowerCase());
    return f ? f[1] : undefined;
  }

  hasHeader(name) {
    return !!this._fields && this._fields.has(String(name).toLowerCase());
  }

  removeHeader(name) {
    if (this._fields) this._fields.delete(String(name).toLowerCase());
  }

  getHeaderNames() {
    return this._fields ? [...this._fields.keys()] : [];
  }

  getHeaders() {
    const out = {};
    if (this._fields) for (const [k, [, v]] of this._fields) out[k] = v;
    return out;
  }

  writeHead(status, reason, headers) {
    if (typeof reason !== 'string') headers = reason;
    this.statusCode = status;
    if (Array.isArray(headers)) {
      for (let i = 0; i < headers.length; i += 2) this.setHeader(headers[i], headers[i + 1]);
    } else if (headers) {
      for (const k of Object.keys(headers)) this.setHeader(k, headers[k]);
    }
    return this;
  }

  write(chunk, encoding, cb) {
    if (typeof encoding === 'function') [cb, encoding] = [encoding, undefined];
    if (this.writableEnded) throw new Error('squall: write after end');
    this._send(toBuffer(chunk, encoding), C.SEND_FLUSH);
    if (cb) process.nextTick(cb);
    return true;
  }

  end(chunk, encoding, cb) {
    if (typeof chunk === 'function') [cb, chunk] = [chunk, undefined];
    if (typeof encoding === 'function') [cb, encoding] = [encoding, undefined];
    if (this.writableEnded) return this;
    this._send(toBuffer(chunk, encoding), C.SEND_FINISH);
    if (cb) process.nextTick(cb);
    return this;
  }

  _ended() {
    this.writableEnded = true;
    this._server._live--;
  }

  _send(body, flags) {
    const h = this._h;
    let rc;
    if (this.headersSent) {
      rc = sq.squall_response_send(h, 0, null, 0, body, body.length, flags);
    } else {
      const fields = this._fields;
      if (flags === C.SEND_FINISH && (fields === null || (fields.size === 1 && fields.has('content-type')))) {
        // The common case in one crossing with the fewest bytes.
        const ct = fields === null ? null : String(fields.get('content-type')[1]);
        rc = sq.squall_respond(h, this.statusCode, ct, ct === null ? 0 : Buffer.byteLength(ct),
                               body, body.length);
      } else {
        const list = [];
        if (fields !== null) {
          for (const [name, value] of fields.values()) {
            for (const v of Array.isArray(value) ? value : [value]) {
              const s = String(v);
              list.push({ name, name_len: Buffer.byteLength(name), value: s, value_len: Buffer.byteLength(s) });
            }
          }
        }
        rc = sq.squall_response_send(h, this.statusCode, list.length ? list : null, list.length,
                                     body, body.length, flags);
      }
    }
    if (rc !== C.OK && rc !== C.ECLOSED) throw errorFor('response'); // nothing applied
    this.headersSent = true;
    if (flags !== C.SEND_FLUSH) this._ended();
  }

  _abort() {
    if (this.writableEnded) return;
    sq.squall_response_send(this._h, 0, null, 0, null, 0, C.SEND_ABORT);
    this._ended();
  }

  on(event, listener) {
    super.on(event, listener);
    if ((event === 'finish' || event === 'close') && !this._doneAsked && !this.writableEnded) {
      this._doneAsked = true;
      this._server._watch(this);
    }
    return this;
  }

  addListener(event, listener) {
    return this.on(event, listener);
  }
}

function parseListenArgs(args) {
  let port = 0;
  let host = '127.0.0.1';
  let cb;
  for (const a of args) {
    if (typeof a === 'function') cb = a;
    else if (typeof a === 'number' || (typeof a === 'string' && /^\d+$/.test(a))) port = Number(a);
    else if (typeof a === 'string') host = a;
    else if (a && typeof a === 'object') {
      if (a.port !== undefined) port = Number(a.port);
      if (a.host !== undefined) host = a.host;
    }
  }
  return { port, host, cb };
}

class Server extends EventEmitter {
  constructor(options, handler) {
    super();
    if (typeof options === 'function') [handler, options] = [options, {}];
    this._options = options || {};
    this._handler = handler;
    this._worker = null;
    this._loop = null;
    this._closeAddress = null;
    this._address = null;
    this._live = 0;         // responses not ended yet
    this._watched = new Map(); // on_done id -> response
    this._nextId = 1n;
    this._slotsBuffer = new SharedArrayBuffer(BATCH_SLOTS * 8);
    this._slots = new BigUint64Array(this._slotsBuffer);
    this._deliver = null;
    this._doneFn = null;
    this.batches = 0; // wake-ups of this thread that brought requests
    this.requests = 0;
  }

  listen(...args) {
    const { port, host, cb } = parseListenArgs(args);
    if (this._worker) throw new Error('squall: already listening');
    if (cb) this.once('listening', cb);
    const opts = this._options;
    const config = [];
    if (opts.keepAlive === false) config.push([C.OPT_NO_KEEP_ALIVE, 1]);
    if (opts.maxBodySize !== undefined) config.push([C.OPT_MAX_BODY_SIZE, opts.maxBodySize]);
    if (opts.keepAliveTimeout !== undefined) config.push([C.OPT_IDLE_TIMEOUT_MS, opts.keepAliveTimeout]);
    if (opts.xheaders) config.push([C.OPT_XHEADERS, 1]);
    this._deliver = koffi.register((n) => this._onBatch(n), koffi.pointer(protos.deliver));
    this._doneFn = koffi.register((status, id) => this._onDone(status, id), koffi.pointer(protos.done));
    const w = new Worker(path.join(__dirname, 'lib', 'loop.js'), {
      workerData: {
        host, port, config, slotsBuffer: this._slotsBuffer,
        deliverAddress: koffi.address(this._deliver),
      },
    });
    this._worker = w;
    this._host = host;
    this._released = [];
    w.on('message', (m) => this._onMessage(m));
    w.on('error', (e) => this.emit('error', e));
    w.on('exit', () => this._onExit());
    return this;
  }

  _onMessage(m) {
    switch (m.type) {
      case 'listening':
        this._loop = m.loop;
        this._closeAddress = m.close;
        this._address = { address: this._host, family: this._host.includes(':') ? 'IPv6' : 'IPv4', port: m.port };
        this.listening = true;
        this.emit('listening');
        break;
      case 'failed':
        this.emit('error', new Error(m.message));
        break;
      case 'libraryError': {
        const e = new Error(m.message);
        Object.assign(e, { kind: m.kind, status: m.status, peer: m.peer });
        this._reportError(e);
        break;
      }
      case 'released':
        this._released.push(m.what);
        break;
      case 'closed':
        break;
    }
  }

  _onExit() {
    this.listening = false;
    this._worker = null;
    if (this._deliver) koffi.unregister(this._deliver);
    if (this._doneFn) koffi.unregister(this._doneFn);
    this._deliver = this._doneFn = null;
    this.emit('close', this._released);
  }

  // One wake-up: n request handles wait in the shared slots.  Copy them and
  // return at once (the loop thread waits for this return); run the
  // handlers right after.
  _onBatch(n) {
    const handles = this._slots.slice(0, n);
    this.batches++;
    this.requests += n;
    queueMicrotask(() => this._dispatch(handles));
  }

  _dispatch(handles) {
    const handler = this._handler;
    for (let i = 0; i < handles.length; i++) {
      const h = handles[i];
      this._live++;
      const req = new IncomingMessage(h);
      const res = new ServerResponse(this, h, req);
      try {
        const r = handler(req, res);
        if (r && typeof r.then === 'function') r.then(undefined, (e) => this._handlerFailed(e, req, res));
      } catch (e) {
        this._handlerFailed(e, req, res);
      }
    }
  }

  // A handler threw (or its promise rejected): 500 if nothing was sent yet,
  // else the response is aborted; the error goes to the error hook.  The
  // server keeps serving.
  _handlerFailed(err, req, res) {
    const e = err instanceof Error ? err : new Error(String(err));
    e.kind = C.ERRKIND_APPLICATION;
    e.status = res.headersSent ? 0 : 500;
    e.request = `${req.method} ${req.url}`;
    this._reportError(e);
    if (res.writableEnded) return;
    if (!res.headersSent) {
      const body = Buffer.from('Internal Server Error\n');
      sq.squall_respond(res._h, 500, 'text/plain', 10, body, body.length);
      res.headersSent = true;
      res._ended();
    } else {
      res._abort();
    }
  }

  _reportError(e) {
    const hook = this._options.onError;
    if (hook) hook(e);
    else if (this.listenerCount('requestError')) this.emit('requestError', e);
    else if (e.request) console.error(`squall: ${e.request}: ${e.stack || e.message}`);
    else console.error(`squall: ${e.message}${e.peer ? ` (${e.peer})` : ''}`);
  }

  _watch(res) {
    const id = this._nextId++;
    if (sq.squall_request_on_done(res._h, this._doneFn, id) === C.OK) this._watched.set(id, res);
  }

  _onDone(status, id) {
    const res = this._watched.get(id);
    if (!res) return;
    this._watched.delete(id);
    if (status === 0) res.emit('finish');
    res.emit('close');
  }

  address() {
    return this._address;
  }

  // This binding's counters: responses not ended, responses whose 'close'
  // is awaited, wake-ups that brought requests, requests delivered.
  stats() {
    return { live: this._live, watched: this._watched.size, batches: this.batches, requests: this.requests };
  }

  // Free the server on its thread, even with requests pending (they stay
  // valid; their responses find the connection closed and their 'close'
  // fires), then stop and free the loop.  'close' is emitted once the loop
  // thread is gone and every release callback has run.
  close(cb) {
    if (cb) this.once('close', cb);
    if (!this._worker) {
      process.nextTick(() => this.emit('close', []));
      return this;
    }
    if (this._loop === null) {
      this.once('listening', () => this.close());
      return this;
    }
    if (sq.squall_loop_call_soon(this._loop, this._closeAddress, null) !== C.OK) {
      this._worker.terminate();
    }
    this._loop = null;
    return this;
  }

  ref() {
    if (this._worker) this._worker.ref();
    return this;
  }

  unref() {
    if (this._worker) this._worker.unref();
    return this;
  }
}

function createServer(options, handler) {
  return new Server(options, handler);
}

module.exports = {
  createServer,
  Server,
  IncomingMessage,
  ServerResponse,
  version: sq.squall_version_string(),
};
