// "Play a day": synthetic calls through a fresh engine of the same config.
// Poisson arrivals, each routed with its own seed and connected to the first
// step that accepts it; calls last a few minutes and some convert. All
// randomness comes from one seeded generator, so a run is repeatable.

/** mulberry32: a tiny seeded PRNG for the traffic (the route seeds are separate). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MIN = 60_000;

export class DaySim {
  /** `makeEngine()` returns a fresh Engine; `start` a Date; `perHour` the arrival rate. */
  constructor(makeEngine, start, perHour, seed = 1) {
    this.engine = makeEngine();
    this.start = start.getTime();
    this.end = this.start + 24 * 60 * MIN;
    this.now = this.start;
    this.random = rng(seed);
    this.perHour = perHour;
    this.routeSeed = seed * 1_000_003;
    this.events = []; // {t, kind, call, revenue?}, kept sorted by t
    this.stats = { offered: 0, connected: 0, missed: 0, converted: 0, revenueCents: 0 };
    this.callNo = 0;
    this.nextArrival = this.start + this.gap();
  }

  gap() {
    return (-Math.log(1 - this.random()) * 60 * MIN) / this.perHour;
  }

  push(ev) {
    let i = this.events.length;
    while (i > 0 && this.events[i - 1].t > ev.t) i--;
    this.events.splice(i, 0, ev);
  }

  iso(t) {
    return new Date(Math.floor(t / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  }

  /** One arriving call: route, then connect to the first step that accepts. */
  arrive(t) {
    const call = `sim-${++this.callNo}`;
    this.stats.offered++;
    const at = this.iso(t);
    const { plan } = this.engine.route(at, this.routeSeed + this.callNo);
    for (const step of plan) {
      const target = step.target ?? step.targets?.[0];
      if (!target) continue;
      if (this.engine.connect(call, target, at).ok) {
        this.stats.connected++;
        const length = Math.max(0.5, -Math.log(1 - this.random()) * 6) * MIN;
        const converts = this.random() < 0.35;
        const revenue = converts ? (5 + Math.floor(this.random() * 5500) / 100).toFixed(2) : null;
        this.push({ t: t + length, kind: 'end', call, revenue });
        return;
      }
    }
    this.stats.missed++;
  }

  /** Advance the clock to `t` (capped at the end of the day), handling every event on the way. */
  advance(t) {
    t = Math.min(t, this.end);
    for (;;) {
      const next = Math.min(this.nextArrival, this.events.length ? this.events[0].t : Infinity);
      if (next > t) break;
      if (next === this.nextArrival) {
        this.arrive(next);
        this.nextArrival = next + this.gap();
      } else {
        const ev = this.events.shift();
        const at = this.iso(ev.t);
        this.engine.end(ev.call, at);
        if (ev.revenue !== null) {
          this.engine.convert(ev.call, ev.revenue, at);
          this.stats.converted++;
          this.stats.revenueCents += Math.round(Number(ev.revenue) * 100);
        }
      }
    }
    this.now = t;
    return this.now < this.end;
  }
}
