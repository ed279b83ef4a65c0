'use strict';
// The loop thread: a worker_threads Worker that owns the squall loop and
// server and drives the loop with squall_loop_poll (pull-style dispatch): the
// library writes the handles of the requests one pass made ready straight
// into the slots (a SharedArrayBuffer both threads see), so this thread runs
// no JS per request -- no callback from C into JS on the hot path.  Each
// batch goes to the JS thread in one call of the JS thread's registered koffi
// callback: koffi relays a call from another thread through a thread-safe
// function, so the JS thread wakes once per batch, not once per request.
// The JS thread reads the requests and answers with the any-thread response
// calls (squall_respond / squall_response_send), which the library queues to
// this loop and applies in its next pass.
const { workerData, parentPort } = require('node:worker_threads');
const { koffi, sq, protos, C, lastError } = require('./native');

const { host, port, config, slotsBuffer, deliverAddress } = workerData;
const slots = new BigUint64Array(slotsBuffer);
const deliver = koffi.decode(deliverAddress, protos.deliver);

function deliverBatch(n) {
  if (n > 0) deliver(n); // returns once the JS thread has copied the handles
}

const out = [null];
function check(rc, what) {
  if (rc !== 0) throw new Error(`squall: ${what}: ${lastError()}`);
}

check(sq.squall_loop_new(out), 'loop');
const loop = out[0];
const registered = [];
function register(fn, proto) {
  const p = koffi.register(fn, koffi.pointer(proto));
  registered.push(p);
  return p;
}

const errorHook = register((kind, status, msg, msgLen, peer, peerLen) => {
  parentPort.postMessage({
    type: 'libraryError', kind, status,
    message: koffi.decode(msg, 'char', Number(msgLen)),
    peer: peerLen ? koffi.decode(peer, 'char', Number(peerLen)) : '',
  });
}, protos.errorHook);
const hookRelease = register(() => {
  parentPort.postMessage({ type: 'released', what: 'errorHook' });
}, protos.release);

let srv = null;
// Runs on this thread from squall_loop_call_soon (the JS thread asks for it):
// free the server (requests the JS thread still owns stay valid; their
// responses get SQUALL_ECLOSED) and stop the loop: the poll that ran this
// returns SQUALL_POLL_STOPPED after handing over what it took.
const closeCb = register(() => {
  sq.squall_server_free(srv);
  srv = null;
  // A polled server has no handler to release: report it freed here.
  parentPort.postMessage({ type: 'released', what: 'server' });
  sq.squall_loop_stop(loop);
}, protos.callback);

try {
  check(sq.squall_config_new(out), 'config');
  const cfg = out[0];
  for (const [key, value] of config) check(sq.squall_config_set_int(cfg, key, value), 'config');
  check(sq.squall_server_new_polled(out, loop, cfg), 'server');
  sq.squall_config_free(cfg);
  srv = out[0];
  check(sq.squall_server_set_error_hook(srv, errorHook, null, hookRelease), 'error hook');
  const h = Buffer.from(host);
  check(sq.squall_server_listen(srv, h, h.length, port), `listen ${host}:${port}`);
  const bound = [0];
  sq.squall_server_port(srv, bound);
  parentPort.postMessage({ type: 'listening', port: bound[0], loop, close: koffi.address(closeCb) });
} catch (e) {
  if (srv) sq.squall_server_free(srv);
  sq.squall_loop_free(loop);
  parentPort.postMessage({ type: 'failed', message: e.message });
  process.exit(0);
}

const nOut = [0];
for (;;) {
  const rc = sq.squall_loop_poll(loop, -1, slots, slots.length, nOut);
  deliverBatch(Number(nOut[0]));
  if (rc !== C.OK) break; // SQUALL_POLL_STOPPED after close, or an error
}
sq.squall_loop_free(loop); // runs what is still queued (on_done, releases)
for (const p of registered) koffi.unregister(p);
parentPort.postMessage({ type: 'closed' });
