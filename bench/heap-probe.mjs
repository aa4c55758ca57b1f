// Loaded into `meshd serve` by bench/xds-attack.ts (NODE_OPTIONS="--expose-gc --import ..."): on SIGWINCH it
// runs full garbage collections and writes the V8 heap in use to stderr, so the bench measures what is
// still reachable rather than garbage not yet collected. Not part of meshd.
process.on('SIGWINCH', () => {
  globalThis.gc();
  setImmediate(() => {
    globalThis.gc();
    const m = process.memoryUsage();
    process.stderr.write(`heap-probe ${JSON.stringify({ heapUsed: m.heapUsed, rss: m.rss })}\n`);
  });
});
