//! The floor of a cold verdict pass on this machine: the least work a
//! scalar pass can do per target when every target's counters changed,
//! the anchor for a cold decision (`route_cold` in the routecap bench):
//! `floor_cold/targets/N` in this crate's bench (see its `README.md`).
//!
//! It reads what a verdict must read, laid out as compactly as the
//! checker could ever lay it out, and does only the compares a verdict
//! needs, with none of the engine's other duties (reasons, `until` of a
//! reopening computed on a cache miss, groups, filters, step keys, the
//! plan):
//! - per target, one 64-byte row: count limits, the revenue limit and
//!   which revenue it reads, a bit set of the limits set, the kept
//!   verdict's memo (stamp and until when), zone and (schedule, zone) pair
//!   indices, the pause flag;
//! - per target, the ledger's 128-byte counters record (two cache lines,
//!   as `routecap_core::counters` keeps them) and its 8-byte stamp;
//! - per target, the 16-byte verdict it holds, rewritten only if it
//!   changed;
//! - per zone, its current window starts and earliest window ends; per
//!   pair, its hours verdict and reopening (both in L1, prepared once).
//!
//! The data are drawn like [`routecap_benches::fixture`]'s: 20 zones, about 600
//! pairs, the same shares of caps set and at a cap.

use routecap_benches::fixture::Mix;

/// Zones and (schedule, zone) pairs of the fixture.
const ZONES: usize = 20;
const PAIRS: usize = 600;

/// One target's verdict inputs from the checker's side, in one line.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
struct Row {
    memo_stamp: u64,
    memo_until: i64,
    revenue_limit: i64,
    /// Hour, day, month, total, concurrency.
    limits: [u32; 5],
    pair: u32,
    zone: u16,
    /// Bits 0–4: count limits set; bit 5: the revenue limit.
    set: u8,
    /// Which revenue the limit reads: 0 hour, 1 day, 2 month, 3 total.
    rev: u8,
    paused: bool,
}

const _: () = assert!(std::mem::size_of::<Row>() == 64);

/// One target's counters as the ledger keeps them: what count caps read in
/// the first line, revenues and imported live calls in the second.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
struct Counters {
    starts: [i64; 3],
    counts: [u64; 3],
    held: u32,
    live: u32,
    total: u64,
    total_revenue: i64,
    revenues: [i64; 3],
    imported_live: u64,
    /// Unix second from which the imported live calls no longer hold.
    imported_until: i64,
    _rest: [u64; 2],
}

const _: () = assert!(std::mem::size_of::<Counters>() == 128);

#[derive(Clone, Copy, Debug, Default)]
struct Zone {
    starts: [i64; 3],
    ends: i64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Pair {
    open: bool,
    /// Until when `open` holds.
    until: i64,
    /// When closed: the reopening instant.
    reopen: i64,
}

/// The verdict a report holds: eligible, or paused / closed until when /
/// which caps reached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Written {
    /// Bit 0: written; bit 1: paused; bit 2: closed; bits 8–13: caps reached.
    code: u64,
    reopen: i64,
}

impl Written {
    fn eligible(&self) -> bool {
        self.code == 1
    }
}

/// A campaign's worth of verdict inputs and the verdicts they give.
#[derive(Clone, Debug)]
pub struct FloorPass {
    rows: Vec<Row>,
    counters: Vec<Counters>,
    stable: Vec<u64>,
    written: Vec<Written>,
    zones: Vec<Zone>,
    pairs: Vec<Pair>,
}

/// The decision instant of [`FloorPass`] (Unix seconds): every window
/// start and pair verdict is drawn around it.
pub const NOW: i64 = 1_772_550_000;

impl FloorPass {
    /// `n` targets drawn from `seed`.
    pub fn new(n: usize, seed: u64) -> Self {
        let mut r = Mix::new(seed);
        let zones: Vec<Zone> = (0..ZONES as i64)
            .map(|z| Zone {
                starts: [NOW - 600 - z, NOW - 36_000 - z, NOW - 86_400 * 3 - z],
                ends: NOW + 3_000 + z,
            })
            .collect();
        let pairs = (0..PAIRS)
            .map(|_| Pair {
                open: r.pct(55),
                until: NOW + 1_800 + r.below(7_200) as i64,
                reopen: NOW + 3_600 + r.below(36_000) as i64,
            })
            .collect();
        let mut rows = Vec::with_capacity(n);
        let mut counters = Vec::with_capacity(n);
        for _ in 0..n {
            let zone = r.below(ZONES as u64) as usize;
            let z = zones[zone];
            let mut row = Row {
                pair: r.below(PAIRS as u64) as u32,
                zone: zone as u16,
                paused: r.pct(3),
                rev: 1,
                ..Row::default()
            };
            let mut c = Counters {
                starts: z.starts,
                imported_until: i64::MAX,
                ..Counters::default()
            };
            // an old hour window one time in four: its count does not count
            if r.pct(25) {
                c.starts[0] -= 3_600;
            }
            let at_cap = r.pct(17);
            let which = r.below(6) as usize;
            let shares = [70, 80, 50, 20, 60];
            let caps = [20u64, 200, 5_000, 100_000, 10];
            for i in 0..5 {
                if r.pct(shares[i]) {
                    row.set |= 1 << i;
                    let limit = caps[i] / 2 + r.below(caps[i] / 2);
                    row.limits[i] = limit as u32;
                    let used = if at_cap && which == i {
                        limit
                    } else {
                        r.below(limit)
                    };
                    match i {
                        0..=2 => c.counts[i] = used,
                        3 => c.total = used,
                        _ => {
                            c.live = (used / 2) as u32;
                            c.imported_live = used - used / 2;
                        }
                    }
                }
            }
            if r.pct(30) {
                row.set |= 1 << 5;
                row.revenue_limit = 50_000 + r.below(200_000) as i64;
                c.revenues[1] = if at_cap && which == 5 {
                    row.revenue_limit
                } else {
                    r.below(row.revenue_limit as u64) as i64
                };
            }
            rows.push(row);
            counters.push(c);
        }
        FloorPass {
            rows,
            stable: (1..=n as u64).collect(),
            written: vec![Written::default(); n],
            counters,
            zones,
            pairs,
        }
    }

    /// Forget every kept verdict: the next pass judges every target.
    pub fn forget(&mut self) {
        self.rows.iter_mut().for_each(|r| r.memo_stamp = 0);
    }

    /// One pass at `now`: every target whose kept verdict lapsed is judged
    /// again and its verdict rewritten only if it changed. Returns how many
    /// were rewritten.
    pub fn pass(&mut self, now: i64) -> usize {
        let mut rewritten = 0;
        let (zones, pairs) = (&self.zones, &self.pairs);
        let targets = (self.rows.iter_mut().zip(&self.counters))
            .zip(self.stable.iter().zip(self.written.iter_mut()));
        for ((row, c), (&stamp, written)) in targets {
            let lapsed =
                (row.memo_stamp == 0) | (now >= row.memo_until) | (stamp != row.memo_stamp);
            if !lapsed {
                continue;
            }
            let (Some(z), Some(p)) = (
                zones.get(usize::from(row.zone)),
                pairs.get(row.pair as usize),
            ) else {
                continue;
            };
            let held = u64::from(c.held);
            let mut reached = 0u8;
            let mut current = [false; 3];
            for (i, cur) in current.iter_mut().enumerate() {
                *cur = c.starts[i] == z.starts[i];
                let used = if *cur { c.counts[i] } else { 0 };
                reached |= u8::from(used + held >= u64::from(row.limits[i])) << i;
            }
            reached |= u8::from(c.total + held >= u64::from(row.limits[3])) << 3;
            let imported = if now < c.imported_until {
                c.imported_live
            } else {
                0
            };
            let live = u64::from(c.live) + imported + held;
            reached |= u8::from(live >= u64::from(row.limits[4])) << 4;
            let r = usize::from(row.rev & 3);
            let revenue = match r {
                3 => c.total_revenue,
                _ if current[r] => c.revenues[r],
                _ => 0,
            };
            reached |= u8::from(revenue >= row.revenue_limit) << 5;
            reached &= row.set;
            let closed = !p.open;
            let verdict = Written {
                code: 1
                    | (u64::from(row.paused) << 1)
                    | (u64::from(closed) << 2)
                    | (u64::from(reached) << 8),
                reopen: if closed { p.reopen } else { 0 },
            };
            if *written != verdict {
                *written = verdict;
                rewritten += 1;
            }
            row.memo_stamp = stamp;
            row.memo_until = p.until.min(z.ends);
        }
        rewritten
    }

    /// How many targets the verdicts held say are eligible.
    pub fn eligible(&self) -> usize {
        self.written.iter().filter(|w| w.eligible()).count()
    }

    /// The same count, each target judged the plain way at `now` (for the
    /// test that the pass computes what it claims).
    pub fn eligible_reference(&self, now: i64) -> usize {
        let judge = |(row, c): (&Row, &Counters)| -> Option<bool> {
            let z = self.zones.get(usize::from(row.zone))?;
            let p = self.pairs.get(row.pair as usize)?;
            let held = u64::from(c.held);
            let set = |i: u8| row.set & (1 << i) != 0;
            let limit = |i: usize| u64::from(row.limits[i]);
            for i in 0..3 {
                let used = if c.starts[i] == z.starts[i] {
                    c.counts[i]
                } else {
                    0
                };
                if set(i as u8) && used + held >= limit(i) {
                    return Some(false);
                }
            }
            if set(3) && c.total + held >= limit(3) {
                return Some(false);
            }
            let imported = if now < c.imported_until {
                c.imported_live
            } else {
                0
            };
            if set(4) && u64::from(c.live) + imported + held >= limit(4) {
                return Some(false);
            }
            let revenue = match row.rev {
                3 => c.total_revenue,
                r if c.starts[usize::from(r)] == z.starts[usize::from(r)] => {
                    c.revenues[usize::from(r)]
                }
                _ => 0,
            };
            if set(5) && revenue >= row.revenue_limit {
                return Some(false);
            }
            Some(p.open && !row.paused)
        };
        (self.rows.iter().zip(&self.counters))
            .filter(|&t| judge(t) == Some(true))
            .count()
    }
}

/// The same targets with every field a column (struct of arrays), judged
/// eight at a time without branches: whether a column layout beats the
/// scalar floor ([`FloorPass`]) on this machine, the layout the ledger and
/// the checker would need for it.
#[derive(Clone, Debug)]
pub struct FloorColumns {
    memo_stamp: Vec<u64>,
    memo_until: Vec<i64>,
    stable: Vec<u64>,
    zone: Vec<u32>,
    pair: Vec<u32>,
    starts: [Vec<i64>; 3],
    /// Hour, day, month counts, total, live calls (own + imported).
    used: [Vec<u64>; 5],
    held: Vec<u64>,
    revenue: Vec<i64>,
    /// Hour, day, month, total, concurrency; `u64::MAX` when not set.
    limits: [Vec<u64>; 5],
    revenue_limit: Vec<i64>,
    paused: Vec<u64>,
    written: Vec<u64>,
    reopen: Vec<i64>,
    zones: Vec<Zone>,
    pairs: Vec<Pair>,
    /// The zone and pair tables as columns too, for vector gathers
    /// ([`FloorColumns::pass_wide`]): per zone its window starts and
    /// earliest end, per pair until when its verdict holds and, when
    /// closed, its reopening (0 when open: one gather answers both).
    zone_starts: [Vec<i64>; 3],
    zone_ends: Vec<i64>,
    pair_until: Vec<i64>,
    pair_reopen: Vec<i64>,
    /// The counts, held calls and limits in 32 bits, with a bit set of the
    /// limits set (bit 5: the revenue limit, bit 6: paused), for the
    /// vector pass: 133 bytes read per target instead of 190.
    used32: [Vec<u32>; 5],
    held32: Vec<u32>,
    limits32: [Vec<u32>; 5],
    set: Vec<u8>,
}

impl FloorColumns {
    /// The targets of `pass`, as columns (imported live calls holding).
    pub fn of(pass: &FloorPass) -> Self {
        let col = |f: &dyn Fn(&Row, &Counters) -> u64| -> Vec<u64> {
            pass.rows
                .iter()
                .zip(&pass.counters)
                .map(|(r, c)| f(r, c))
                .collect()
        };
        let limit = |i: usize| {
            col(&move |r: &Row, _: &Counters| {
                if r.set & (1 << i) != 0 {
                    u64::from(r.limits[i])
                } else {
                    u64::MAX
                }
            })
        };
        let columns = FloorColumns {
            memo_stamp: vec![0; pass.rows.len()],
            memo_until: vec![0; pass.rows.len()],
            stable: pass.stable.clone(),
            zone: pass.rows.iter().map(|r| u32::from(r.zone)).collect(),
            pair: pass.rows.iter().map(|r| r.pair).collect(),
            starts: [0, 1, 2].map(|i| pass.counters.iter().map(|c| c.starts[i]).collect()),
            used: [
                col(&|_, c| c.counts[0]),
                col(&|_, c| c.counts[1]),
                col(&|_, c| c.counts[2]),
                col(&|_, c| c.total),
                col(&|_, c| u64::from(c.live) + c.imported_live),
            ],
            held: col(&|_, c| u64::from(c.held)),
            revenue: pass.counters.iter().map(|c| c.revenues[1]).collect(),
            limits: [limit(0), limit(1), limit(2), limit(3), limit(4)],
            revenue_limit: (pass.rows.iter())
                .map(|r| {
                    if r.set & (1 << 5) != 0 {
                        r.revenue_limit
                    } else {
                        i64::MAX
                    }
                })
                .collect(),
            paused: pass.rows.iter().map(|r| u64::from(r.paused)).collect(),
            written: vec![0; pass.rows.len()],
            reopen: vec![0; pass.rows.len()],
            zones: pass.zones.clone(),
            pairs: pass.pairs.clone(),
            zone_starts: [0, 1, 2].map(|k| pass.zones.iter().map(|z| z.starts[k]).collect()),
            zone_ends: pass.zones.iter().map(|z| z.ends).collect(),
            pair_until: pass.pairs.iter().map(|p| p.until).collect(),
            pair_reopen: (pass.pairs.iter())
                .map(|p| if p.open { 0 } else { p.reopen })
                .collect(),
            used32: [
                col32(pass, &|_, c| c.counts[0]),
                col32(pass, &|_, c| c.counts[1]),
                col32(pass, &|_, c| c.counts[2]),
                col32(pass, &|_, c| c.total),
                col32(pass, &|_, c| u64::from(c.live) + c.imported_live),
            ],
            held32: pass.counters.iter().map(|c| c.held).collect(),
            limits32: [0, 1, 2, 3, 4].map(|k| pass.rows.iter().map(|r| r.limits[k]).collect()),
            set: (pass.rows.iter())
                .map(|r| r.set | (u8::from(r.paused) << 6))
                .collect(),
        };
        // what the vector pass's gathers rely on, checked once here: no
        // pass changes a table or an index
        let (zones, pairs) = (columns.zone_ends.len(), columns.pair_until.len());
        assert!(columns.zone_starts.iter().all(|z| z.len() == zones));
        assert!(columns.pair_reopen.len() == pairs);
        assert!(columns.zone.iter().all(|&z| (z as usize) < zones));
        assert!(columns.pair.iter().all(|&p| (p as usize) < pairs));
        // a closed pair reopens later than any instant judged: never 0
        assert!(columns.pairs.iter().all(|p| p.open || p.reopen != 0));
        columns
    }

    /// [`FloorPass::forget`].
    pub fn forget(&mut self) {
        self.memo_stamp.iter_mut().for_each(|s| *s = 0);
    }

    /// [`FloorPass::pass`], eight targets at a time.
    pub fn pass(&mut self, now: i64) -> usize {
        const W: usize = 8;
        let n = self.stable.len() / W * W;
        let mut rewritten = 0;
        for base in (0..n).step_by(W) {
            let mut verdict = [0u64; W];
            let mut reopen = [0i64; W];
            let mut until = [0i64; W];
            let mut lapsed = [false; W];
            for j in 0..W {
                let i = base + j;
                lapsed[j] = (self.memo_stamp[i] == 0)
                    | (now >= self.memo_until[i])
                    | (self.stable[i] != self.memo_stamp[i]);
                let z = &self.zones[self.zone[i] as usize % ZONES];
                let p = &self.pairs[self.pair[i] as usize % PAIRS];
                let held = self.held[i];
                let mut reached = 0u64;
                let mut day = false;
                for k in 0..3 {
                    let cur = self.starts[k][i] == z.starts[k];
                    day |= cur & (k == 1);
                    let used = if cur { self.used[k][i] } else { 0 };
                    reached |= u64::from(used + held >= self.limits[k][i]) << k;
                }
                for k in 3..5 {
                    reached |= u64::from(self.used[k][i] + held >= self.limits[k][i]) << k;
                }
                let revenue = if day { self.revenue[i] } else { 0 };
                reached |= u64::from(revenue >= self.revenue_limit[i]) << 5;
                let closed = u64::from(!p.open);
                verdict[j] = 1 | (self.paused[i] << 1) | (closed << 2) | (reached << 8);
                reopen[j] = if p.open { 0 } else { p.reopen };
                until[j] = p.until.min(z.ends);
            }
            for j in 0..W {
                let i = base + j;
                if lapsed[j] {
                    let changed = (self.written[i] != verdict[j]) | (self.reopen[i] != reopen[j]);
                    rewritten += usize::from(changed);
                    self.written[i] = verdict[j];
                    self.reopen[i] = reopen[j];
                    self.memo_stamp[i] = self.stable[i];
                    self.memo_until[i] = until[j];
                }
            }
        }
        rewritten
    }

    /// [`FloorPass::eligible`].
    pub fn eligible(&self) -> usize {
        let n = self.stable.len() / 8 * 8;
        self.written.iter().take(n).filter(|&&w| w == 1).count()
    }
}

/// A column of 32-bit counts (the fixture's fit).
fn col32(pass: &FloorPass, f: &dyn Fn(&Row, &Counters) -> u64) -> Vec<u32> {
    (pass.rows.iter().zip(&pass.counters))
        .map(|(r, c)| u32::try_from(f(r, c)).unwrap_or(u32::MAX))
        .collect()
}

impl FloorColumns {
    /// [`FloorColumns::pass`] written by hand with AVX-512 (eight 64-bit
    /// lanes, the zone and pair lookups as gathers, the verdicts stored
    /// under a mask of the lapsed ones): whether vector code beats the
    /// scalar floor. `None` on a CPU without AVX-512F (and off x86_64):
    /// the experiment only measures; the checker has no such path.
    pub fn pass_wide(&mut self, now: i64) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F, checked just above
            return Some(unsafe { self.pass_avx512(now) });
        }
        let _ = now;
        None
    }

    /// # Safety
    /// The CPU must have AVX-512F.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn pass_avx512(&mut self, now: i64) -> usize {
        use std::arch::x86_64::*;
        const W: usize = 8;
        let n = self.stable.len() / W * W;
        // every column read holds `n` entries (every index is within its
        // table: checked once, by `FloorColumns::of`)
        let cols = [
            self.memo_stamp.len(),
            self.memo_until.len(),
            self.zone.len(),
            self.pair.len(),
            self.held32.len(),
            self.set.len(),
            self.revenue.len(),
            self.revenue_limit.len(),
            self.written.len(),
            self.reopen.len(),
        ];
        let more = (self.starts.iter().map(Vec::len))
            .chain(self.used32.iter().chain(&self.limits32[..]).map(Vec::len));
        assert!(cols.into_iter().chain(more).all(|len| len >= n));
        // SAFETY (every load, store and gather below): lanes `base..base
        // + 8` are below `n`, within every column (asserted above), and
        // every gather index is within its table (asserted by `of`)
        macro_rules! ld {
            ($v:expr, $base:expr) => {
                _mm512_loadu_si512($v.as_ptr().add($base).cast())
            };
        }
        macro_rules! ld32 {
            ($v:expr, $base:expr) => {
                _mm512_cvtepu32_epi64(_mm256_loadu_si256($v.as_ptr().add($base).cast()))
            };
        }
        macro_rules! gather {
            ($idx:expr, $table:expr) => {
                _mm512_i32gather_epi64::<8>($idx, $table.as_ptr().cast())
            };
        }
        let now_v = _mm512_set1_epi64(now);
        let zero = _mm512_setzero_si512();
        let mut rewritten = 0;
        for base in (0..n).step_by(W) {
            let stamp = ld!(self.memo_stamp, base);
            let stable = ld!(self.stable, base);
            let lapsed = _mm512_cmpeq_epi64_mask(stamp, zero)
                | _mm512_cmpge_epi64_mask(now_v, ld!(self.memo_until, base))
                | _mm512_cmpneq_epi64_mask(stable, stamp);
            if lapsed == 0 {
                continue;
            }
            let zone = _mm256_loadu_si256(self.zone.as_ptr().add(base).cast());
            let pair = _mm256_loadu_si256(self.pair.as_ptr().add(base).cast());
            let held = ld32!(self.held32, base);
            let set = _mm512_cvtepu8_epi64(_mm_loadl_epi64(self.set.as_ptr().add(base).cast()));
            let mut verdict = _mm512_set1_epi64(1);
            let mut day = 0;
            for k in 0..5 {
                let mut used = ld32!(self.used32[k], base);
                if k < 3 {
                    let start = gather!(zone, self.zone_starts[k]);
                    let cur = _mm512_cmpeq_epi64_mask(ld!(self.starts[k], base), start);
                    if k == 1 {
                        day = cur;
                    }
                    used = _mm512_maskz_mov_epi64(cur, used);
                }
                let used = _mm512_add_epi64(used, held);
                let on = _mm512_test_epi64_mask(set, _mm512_set1_epi64(1 << k));
                let reached = on & _mm512_cmpge_epu64_mask(used, ld32!(self.limits32[k], base));
                verdict = _mm512_mask_or_epi64(
                    verdict,
                    reached,
                    verdict,
                    _mm512_set1_epi64(1 << (8 + k)),
                );
            }
            let revenue = _mm512_maskz_mov_epi64(day, ld!(self.revenue, base));
            let reached = _mm512_cmpge_epi64_mask(revenue, ld!(self.revenue_limit, base));
            verdict = _mm512_mask_or_epi64(verdict, reached, verdict, _mm512_set1_epi64(1 << 13));
            let paused = _mm512_test_epi64_mask(set, _mm512_set1_epi64(1 << 6));
            verdict = _mm512_mask_or_epi64(verdict, paused, verdict, _mm512_set1_epi64(2));
            let reopen = gather!(pair, self.pair_reopen);
            let closed = _mm512_cmpneq_epi64_mask(reopen, zero);
            verdict = _mm512_mask_or_epi64(verdict, closed, verdict, _mm512_set1_epi64(4));
            let until = _mm512_min_epi64(
                gather!(pair, self.pair_until),
                gather!(zone, self.zone_ends),
            );
            let changed = _mm512_cmpneq_epi64_mask(ld!(self.written, base), verdict)
                | _mm512_cmpneq_epi64_mask(ld!(self.reopen, base), reopen);
            rewritten += (changed & lapsed).count_ones() as usize;
            _mm512_mask_storeu_epi64(self.written.as_mut_ptr().add(base).cast(), lapsed, verdict);
            _mm512_mask_storeu_epi64(self.reopen.as_mut_ptr().add(base).cast(), lapsed, reopen);
            _mm512_mask_storeu_epi64(
                self.memo_stamp.as_mut_ptr().add(base).cast(),
                lapsed,
                stable,
            );
            _mm512_mask_storeu_epi64(self.memo_until.as_mut_ptr().add(base).cast(), lapsed, until);
        }
        rewritten
    }
}
