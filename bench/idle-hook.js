'use strict';
/**
 * Preloaded into the server by `npm run bench:idle` only (bench/idle.ts):
 *   node --expose-gc --require bench/idle-hook.js dist/server.js
 * It changes nothing the server does. It remembers every WebAssembly.Memory created (PGlite's
 * heap, and the one of the short-lived instance that runs initdb on a fresh data directory) and,
 * when the bench asks over the IPC channel (`{ probe: true }`), answers with the process's memory
 * as V8 sees it, before and after a forced full GC, and the size of each WebAssembly memory still
 * alive (a memory only grows, and the pages PostgreSQL touched count in the RSS).
 */
const v8 = require('node:v8');
const { readFileSync } = require('node:fs');

/** @type {WeakRef<WebAssembly.Memory>[]} */
const memories = [];
WebAssembly.Memory = new Proxy(WebAssembly.Memory, {
  construct(target, args, newTarget) {
    const memory = Reflect.construct(target, args, newTarget);
    memories.push(new WeakRef(memory));
    return memory;
  },
});

/** VmRSS of this process, in bytes (what `ps` and the bench report). */
function vmRss() {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

function snapshot() {
  const u = process.memoryUsage();
  const h = v8.getHeapStatistics();
  const wasm = memories.map((r) => r.deref()).filter((m) => m !== undefined);
  return {
    vmRss: vmRss(),
    heapUsed: u.heapUsed,
    heapTotal: u.heapTotal,
    external: u.external,
    arrayBuffers: u.arrayBuffers,
    mallocedMemory: h.malloced_memory,
    wasmMemories: wasm.map((m) => m.buffer.byteLength),
  };
}

if (process.send) {
  process.on('message', (msg) => {
    if (!msg || msg.probe !== true) return;
    const before = snapshot();
    if (typeof global.gc === 'function') global.gc();
    // Let finalizers run (a collected WebAssembly.Memory's pages are unmapped then).
    setTimeout(() => {
      if (typeof global.gc === 'function') global.gc();
      process.send({ probe: { before, afterGc: snapshot(), gcExposed: typeof global.gc === 'function' } });
    }, 300);
  });
}
