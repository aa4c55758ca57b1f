// istiod's debounce rules on a fake clock: quiet period, maximum delay, one flush at a time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Debouncer, type Clock } from '../../src/xds/debounce.js';

class FakeClock implements Clock {
  t = 0;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private ids = 0;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.ids;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== h);
  }
  /** Advances time, firing due timers in order (and letting promise callbacks run between them). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
      await new Promise((r) => setImmediate(r));
    }
    this.t = end;
  }
}

describe('Debouncer', () => {
  it('flushes once the config has been quiet for the quiet period, merging the events', async () => {
    const clock = new FakeClock();
    const flushes: Array<{ at: number; events: string[] }> = [];
    const d = new Debouncer<string>({ quietMs: 100, maxMs: 10_000 }, (events) => void flushes.push({ at: clock.now(), events }), clock);
    d.trigger('a');
    await clock.advance(50);
    d.trigger('b');
    await clock.advance(90);
    d.trigger('c');
    await clock.advance(99);
    assert.deepEqual(flushes, []);
    await clock.advance(1);
    assert.deepEqual(flushes, [{ at: 240, events: ['a', 'b', 'c'] }]);
  });

  it('flushes after the maximum delay even if changes never stop', async () => {
    const clock = new FakeClock();
    const flushes: number[] = [];
    const d = new Debouncer<number>({ quietMs: 100, maxMs: 1_000 }, () => void flushes.push(clock.now()), clock);
    for (let i = 0; i < 30; i++) {
      d.trigger(i);
      await clock.advance(50);
    }
    assert.deepEqual(flushes, [1_000]);
  });

  it('runs one flush at a time; changes during a flush go into the next one', async () => {
    const clock = new FakeClock();
    const flushes: string[][] = [];
    let release!: () => void;
    let running = 0;
    const d = new Debouncer<string>({ quietMs: 100, maxMs: 10_000 }, async (events) => {
      running++;
      assert.equal(running, 1);
      flushes.push(events);
      if (flushes.length === 1) await new Promise<void>((r) => (release = r));
      running--;
    }, clock);
    d.trigger('a');
    await clock.advance(100);
    assert.deepEqual(flushes, [['a']]);
    d.trigger('b');
    d.trigger('c');
    await clock.advance(500);
    assert.equal(flushes.length, 1, 'no second flush while the first runs');
    release();
    await new Promise((r) => setImmediate(r));
    await clock.advance(100);
    assert.deepEqual(flushes, [['a'], ['b', 'c']]);
  });
});
