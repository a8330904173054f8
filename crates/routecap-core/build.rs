//! Generates `$OUT_DIR/zone_tables.bin`: the transition table of every IANA
//! zone over the supported range, probed from chrono-tz here at build time
//! (see `src/zone_transitions.rs`) so the runtime only decodes a few hundred bytes
//! per zone and never links chrono-tz's timespan tables.
//!
//! Layout (all integers LEB128 varints unless noted; offsets zigzag-coded):
//! - `u32 LE` zone count `n`, then `n` × `u32 LE` byte position of the
//!   table of the zone `Tz as usize` (identical tables, e.g. links, share one);
//! - each table: palette length, palette offsets (seconds), palette index of
//!   the initial offset (one byte), count of stored transitions, count `k` of
//!   repeated ones, then per stored transition the gap since the previous one
//!   (or since 1970), as `minutes << 1` or `seconds << 1 | 1`, then per
//!   stored transition the palette index of the new offset (one byte; the
//!   two columns apart compress better in the gzipped wasm). The rest of the table
//!   repeats: each transition `k` before the end comes again
//!   `zone_transitions::CYCLE` (28 years) later, until `MAX_SUPPORTED` (`k = 0`:
//!   nothing repeats).

use std::collections::HashMap;
use std::path::PathBuf;

#[allow(dead_code)]
#[path = "src/zone_transitions.rs"]
mod zone_transitions;

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// The transitions `repeat(stored, k)` regenerates (see the layout above).
fn repeat(stored: &[(i64, i32)], k: usize) -> Vec<(i64, i32)> {
    let mut all = stored.to_vec();
    if k == 0 {
        return all;
    }
    let mut j = all.len() - k;
    while all[j].0 + zone_transitions::CYCLE < zone_transitions::MAX_SUPPORTED {
        all.push((all[j].0 + zone_transitions::CYCLE, all[j].1));
        j += 1;
    }
    all
}

/// The shortest prefix of `transitions` and its repeat count `k` that
/// regenerate all of them: from the first transition whose next 28 years
/// repeat to the end.
fn split(transitions: &[(i64, i32)]) -> (&[(i64, i32)], usize) {
    for c in 0..transitions.len() {
        let end = c + transitions[c..]
            .iter()
            .take_while(|&&(at, _)| at < transitions[c].0 + zone_transitions::CYCLE)
            .count();
        if end < transitions.len() && repeat(&transitions[..end], end - c) == transitions {
            return (&transitions[..end], end - c);
        }
    }
    (transitions, 0)
}

fn encode(initial: i32, transitions: &[(i64, i32)]) -> Vec<u8> {
    let mut palette = vec![initial];
    for &(_, off) in transitions {
        if !palette.contains(&off) {
            palette.push(off);
        }
    }
    assert!(palette.len() < 256, "offset palette fits a byte");
    let idx = |off: i32| palette.iter().position(|&p| p == off).unwrap_or(0) as u8;
    let mut out = Vec::new();
    varint(&mut out, palette.len() as u64);
    for &p in &palette {
        varint(&mut out, zigzag(p as i64));
    }
    out.push(idx(initial));
    let (stored, k) = split(transitions);
    assert_eq!(
        repeat(stored, k),
        transitions,
        "the repeat regenerates the table"
    );
    varint(&mut out, stored.len() as u64);
    varint(&mut out, k as u64);
    let mut prev = zone_transitions::MIN_SUPPORTED;
    for &(at, _) in stored {
        let gap = (at - prev) as u64;
        varint(
            &mut out,
            if gap % 60 == 0 {
                (gap / 60) << 1
            } else {
                gap << 1 | 1
            },
        );
        prev = at;
    }
    out.extend(stored.iter().map(|&(_, off)| idx(off)));
    out
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/zone_transitions.rs");
    let zones = &chrono_tz::TZ_VARIANTS;
    let n = zones.len();
    let mut positions = vec![0u32; n];
    let mut tables: Vec<u8> = Vec::new();
    let mut seen: HashMap<Vec<u8>, u32> = HashMap::new();
    let header = 4 + 4 * n;
    for &tz in zones {
        let (initial, transitions) = zone_transitions::probe(tz);
        let bytes = encode(initial, &transitions);
        let pos = *seen.entry(bytes).or_insert_with_key(|b| {
            let pos = (header + tables.len()) as u32;
            tables.extend_from_slice(b);
            pos
        });
        positions[tz as usize] = pos;
    }
    let mut out = Vec::with_capacity(header + tables.len());
    out.extend_from_slice(&(n as u32).to_le_bytes());
    for p in positions {
        out.extend_from_slice(&p.to_le_bytes());
    }
    out.extend_from_slice(&tables);
    let dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(dir.join("zone_tables.bin"), out).expect("write zone_tables.bin");
}
