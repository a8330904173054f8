//! Time zones: resolving Rails, Windows and IANA names, the offset rules of
//! a zone as an explicit transition table, and the named policies for local
//! date-times that a DST change skips or repeats ([`Gap`], [`Fold`],
//! [`LocalTimePolicy`]). The semantics are written out in `docs/semantics.md`
//! ("Time zones" and "Daylight saving time").
//!
//! chrono-tz answers "what is the offset at instant t", but windows and
//! business hours also need "when does the offset change next / last".
//! chrono-tz keeps its transition list private, so `build.rs` rebuilds every
//! zone's table at build time by probing chrono-tz (`zone_transitions.rs`) and
//! embeds them compactly; [`ZoneRules::new`] only decodes one. Offsets
//! therefore still come from the IANA database as compiled into chrono-tz,
//! but chrono-tz's own timespan tables are never linked.
//!
//! Supported instants: [`MIN_SUPPORTED`] (1970-01-01) up to, not including,
//! [`MAX_SUPPORTED`] (2100-01-01). Callers validate inputs against that range.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;

#[cfg(test)]
use crate::zone_transitions::chrono_offset;
use crate::zone_transitions::CYCLE;
pub use crate::zone_transitions::{MAX_SUPPORTED, MIN_SUPPORTED};
#[cfg(test)]
use chrono::TimeZone;

/// An instant: always UTC. Local times are derived, never stored.
pub type Instant = DateTime<Utc>;

/// Whether `t` lies in the supported range `[1970-01-01, 2100-01-01)`.
pub fn is_supported(t: Instant) -> bool {
    (MIN_SUPPORTED..MAX_SUPPORTED).contains(&t.timestamp())
}

/// What a local date-time means when a DST change **skips** it (a
/// spring-forward *gap*): the local wall clock never shows it.
///
/// routecap never rejects such a time and never invents an offset for it;
/// which rule applies depends on whether the local time names one instant
/// (a boundary) or is part of a wall-clock interval. [`LocalTimePolicy`]
/// pairs each rule with its [`Fold`] counterpart.
///
/// Compare jiff's `tz::Disambiguation` or JavaScript's Temporal: their
/// `compatible`/`later` reads New York's 02:30 on 2026-03-08 with the offset
/// before the gap (07:30Z, shown as 03:30 EDT) and `earlier` with the offset
/// after it (06:30Z, shown as 01:30 EST). routecap's boundary rule gives
/// neither: it gives the instant of the jump, 07:00Z, so a day, week or hour
/// that "starts at 02:30" starts as soon as the clock has passed 02:30.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gap {
    /// A skipped local date-time that names a **boundary** is the instant of
    /// the transition: the first instant whose local time is at or after it.
    /// Implemented by [`crate::window::first_at_or_after`]; used for the
    /// start of daily and monthly cap windows and of local days, weeks and
    /// hours in the hours grid.
    ///
    /// In New York on 2026-03-08 the clock jumps from 01:59:59 EST to
    /// 03:00:00 EDT at 07:00Z, so 02:30 does not exist; it resolves to
    /// 07:00Z (03:00 EDT):
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use routecap_core::{window::first_at_or_after, zone::{Instant, Zone}};
    ///
    /// let new_york = Zone::new(chrono_tz::America::New_York);
    /// let skipped = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap().and_hms_opt(2, 30, 0).unwrap();
    /// let at: Instant = "2026-03-08T07:00:00Z".parse()?;
    /// assert_eq!(first_at_or_after(&new_york, skipped), at);
    /// // not 06:30Z ("earlier") nor 07:30Z ("later" / "compatible")
    /// # Ok::<(), chrono::ParseError>(())
    /// ```
    ///
    /// In Santiago on 2026-09-06 the clock jumps from 23:59:59 -04 (on the
    /// 5th) to 01:00:00 -03 at 04:00Z: midnight does not exist, and that
    /// local day (its daily cap window) starts at 04:00Z and lasts 23 hours:
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use routecap_core::{caps::Period, window::{first_at_or_after, window}, zone::{Instant, Zone}};
    ///
    /// let santiago = Zone::new(chrono_tz::America::Santiago);
    /// let midnight = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap().and_hms_opt(0, 0, 0).unwrap();
    /// let day_start: Instant = "2026-09-06T04:00:00Z".parse()?;
    /// assert_eq!(first_at_or_after(&santiago, midnight), day_start);
    ///
    /// let day = window(&santiago, Period::Day, "2026-09-06T15:00:00Z".parse()?);
    /// assert_eq!(day.start, day_start);
    /// assert_eq!(day.end, "2026-09-07T03:00:00Z".parse::<Instant>()?);
    /// # Ok::<(), chrono::ParseError>(())
    /// ```
    Transition,
    /// Local times inside a **wall-clock interval** (business hours, hourly
    /// windows) that fall in a gap simply never happen: no instant is open
    /// because of them, and an interval that lies wholly in the gap is never
    /// open that day. Implemented by [`crate::hours::WeeklyHours::is_open`],
    /// [`next_open`](crate::hours::WeeklyHours::next_open) and
    /// [`next_close`](crate::hours::WeeklyHours::next_close) (and the hourly
    /// windows of [`crate::window::window`]).
    ///
    /// New York, Sunday 2026-03-08: hours of 02:30–04:00 open at the jump,
    /// 07:00Z (03:00 EDT), and stay open one hour; hours of 02:00–02:45 do
    /// not open that Sunday at all, only the next one (02:00 EDT = 06:00Z).
    /// The 01:00 hourly window ends at the jump, where the 03:00 one starts.
    ///
    /// ```
    /// use routecap_core::caps::Period;
    /// use routecap_core::hours::{DayHours, WeeklyHours};
    /// use routecap_core::window::window;
    /// use routecap_core::zone::{Instant, Zone};
    ///
    /// let new_york = Zone::new(chrono_tz::America::New_York);
    /// let t = |s: &str| s.parse::<Instant>().unwrap();
    /// let sunday_only = |open, close| {
    ///     let mut days = [Some(DayHours::new(0, 0, false, false).unwrap()); 7];
    ///     days[0] = Some(DayHours::new(open, close, false, false).unwrap());
    ///     WeeklyHours::new(days)
    /// };
    /// let local_midnight = t("2026-03-08T05:00:00Z");
    ///
    /// let late = sunday_only(2 * 60 + 30, 4 * 60);
    /// assert_eq!(late.next_open(&new_york, local_midnight), Some(t("2026-03-08T07:00:00Z")));
    /// assert_eq!(late.next_close(&new_york, t("2026-03-08T07:00:00Z")), Some(t("2026-03-08T08:00:00Z")));
    ///
    /// let inside = sunday_only(2 * 60, 2 * 60 + 45);
    /// assert_eq!(inside.next_open(&new_york, local_midnight), Some(t("2026-03-15T06:00:00Z")));
    ///
    /// let hour = window(&new_york, Period::Hour, t("2026-03-08T06:59:00Z"));
    /// assert_eq!((hour.start, hour.end), (t("2026-03-08T06:00:00Z"), t("2026-03-08T07:00:00Z")));
    /// let next = window(&new_york, Period::Hour, t("2026-03-08T07:00:00Z"));
    /// assert_eq!((next.start, next.end), (t("2026-03-08T07:00:00Z"), t("2026-03-08T08:00:00Z")));
    /// ```
    Skipped,
}

/// What a local date-time means when a DST change **repeats** it (a
/// fall-back *fold*): the local wall clock shows it twice, once per offset.
///
/// As with [`Gap`], the rule depends on whether the local time names one
/// instant (a boundary) or is part of a wall-clock interval; see
/// [`LocalTimePolicy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fold {
    /// A repeated local date-time that names a **boundary** is its
    /// **earlier** occurrence (the first instant whose local time is at or
    /// after it). Implemented by [`crate::window::first_at_or_after`].
    ///
    /// In New York on 2026-11-01 the clock goes back from 01:59:59 EDT to
    /// 01:00:00 EST at 06:00Z, so 01:30 happens at 05:30Z (EDT) and again at
    /// 06:30Z (EST); it resolves to 05:30Z. That local day starts at 04:00Z
    /// and lasts 25 hours:
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use routecap_core::{caps::Period, window::{first_at_or_after, window}, zone::{Instant, Zone}};
    ///
    /// let new_york = Zone::new(chrono_tz::America::New_York);
    /// let repeated = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap().and_hms_opt(1, 30, 0).unwrap();
    /// assert_eq!(first_at_or_after(&new_york, repeated), "2026-11-01T05:30:00Z".parse::<Instant>()?);
    ///
    /// let day = window(&new_york, Period::Day, "2026-11-01T12:00:00Z".parse()?);
    /// assert_eq!(day.start, "2026-11-01T04:00:00Z".parse::<Instant>()?);
    /// assert_eq!(day.end, "2026-11-02T05:00:00Z".parse::<Instant>()?);
    /// # Ok::<(), chrono::ParseError>(())
    /// ```
    Earlier,
    /// Repeated local times inside a **wall-clock interval** (business
    /// hours, hourly windows) happen **twice**, and count each time: hours of
    /// 01:00–02:00 on that Sunday are open for two hours, 05:00Z to 07:00Z,
    /// and the night has two distinct 01:00 hourly cap windows.
    ///
    /// ```
    /// use routecap_core::caps::Period;
    /// use routecap_core::hours::{DayHours, WeeklyHours};
    /// use routecap_core::window::window;
    /// use routecap_core::zone::{Instant, Zone};
    ///
    /// let new_york = Zone::new(chrono_tz::America::New_York);
    /// let t = |s: &str| s.parse::<Instant>().unwrap();
    /// let mut days = [Some(DayHours::new(0, 0, false, false).unwrap()); 7];
    /// days[0] = Some(DayHours::new(60, 120, false, false).unwrap()); // Sunday 01:00–02:00
    /// let hours = WeeklyHours::new(days);
    ///
    /// assert!(hours.is_open(&new_york, t("2026-11-01T05:30:00Z"))); // 01:30 EDT
    /// assert!(hours.is_open(&new_york, t("2026-11-01T06:30:00Z"))); // 01:30 EST
    /// assert_eq!(hours.next_open(&new_york, t("2026-11-01T04:00:00Z")), Some(t("2026-11-01T05:00:00Z")));
    /// assert_eq!(hours.next_close(&new_york, t("2026-11-01T05:00:00Z")), Some(t("2026-11-01T07:00:00Z")));
    ///
    /// let first = window(&new_york, Period::Hour, t("2026-11-01T05:30:00Z"));
    /// let second = window(&new_york, Period::Hour, t("2026-11-01T06:30:00Z"));
    /// assert_eq!((first.start, first.end), (t("2026-11-01T05:00:00Z"), t("2026-11-01T06:00:00Z")));
    /// assert_eq!((second.start, second.end), (t("2026-11-01T06:00:00Z"), t("2026-11-01T07:00:00Z")));
    /// ```
    Twice,
}

/// The pair of DST rules routecap applies to a local date-time, by use.
///
/// routecap has exactly these two pairs and takes no other as an argument:
/// the constants name what the engine does, for its docs and for faces that
/// convert local times (the hours grid, a demo's date-time picker) and must
/// agree with it. The worked examples are on the variants of [`Gap`] and
/// [`Fold`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LocalTimePolicy {
    /// A skipped local time.
    pub gap: Gap,
    /// A repeated local time.
    pub fold: Fold,
}

impl LocalTimePolicy {
    /// A local date-time that names **one instant** — the start of a local
    /// day or month (daily and monthly cap windows), of a week or an hour of
    /// the hours grid, a local date-time typed by a person: the first instant
    /// whose local time is at or after it ([`Gap::Transition`],
    /// [`Fold::Earlier`]), as computed by [`crate::window::first_at_or_after`].
    pub const BOUNDARY: LocalTimePolicy = LocalTimePolicy {
        gap: Gap::Transition,
        fold: Fold::Earlier,
    };

    /// Local times read off the wall clock **at each instant** — business
    /// hours and hourly cap windows: skipped times never happen, repeated
    /// times happen twice ([`Gap::Skipped`], [`Fold::Twice`]).
    pub const WALL_CLOCK: LocalTimePolicy = LocalTimePolicy {
        gap: Gap::Skipped,
        fold: Fold::Twice,
    };
}

/// Which naming scheme a zone name came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ZoneKind {
    /// Rails `ActiveSupport::TimeZone::MAPPING` name (Retreaver).
    Rails,
    /// Windows / .NET `TimeZoneInfo` id (Ringba).
    Windows,
    /// IANA tz database name.
    Iana,
}

impl ZoneKind {
    /// Stable lower-case name used in outputs: `rails`, `windows`, `iana`.
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneKind::Rails => "rails",
            ZoneKind::Windows => "windows",
            ZoneKind::Iana => "iana",
        }
    }
}

/// A successfully resolved zone name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResolvedZone {
    /// The IANA zone.
    pub tz: Tz,
    /// The scheme the name belongs to.
    pub kind: ZoneKind,
    /// The canonical spelling of the matched name (e.g. `Eastern Time (US & Canada)`).
    pub canonical: &'static str,
}

/// An unknown zone name, with up to three close known names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownZone {
    input: String,
    suggestions: Vec<&'static str>,
    too_long: bool,
}

/// Longest zone name accepted, in bytes: the longest known name is 32
/// (`America/Argentina/ComodRivadavia`), so a longer one is refused before
/// any lookup or suggestion search, in microseconds whatever its size.
pub const MAX_ZONE_NAME_BYTES: usize = 64;

impl UnknownZone {
    /// The name as given.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// Up to three closest known names, best first.
    pub fn suggestions(&self) -> &[&'static str] {
        &self.suggestions
    }

    /// Whether the name was refused for being longer than
    /// [`MAX_ZONE_NAME_BYTES`] (then [`UnknownZone::input`] is its start).
    pub fn too_long(&self) -> bool {
        self.too_long
    }
}

impl fmt::Display for UnknownZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.too_long {
            return write!(
                f,
                "unknown time zone {:?}…: longer than {MAX_ZONE_NAME_BYTES} bytes (no zone name is)",
                self.input
            );
        }
        write!(f, "unknown time zone {:?}", self.input)?;
        if !self.suggestions.is_empty() {
            write!(f, "; did you mean ")?;
            for (i, s) in self.suggestions.iter().enumerate() {
                if i > 0 {
                    write!(f, ", ")?;
                }
                write!(f, "{s:?}")?;
            }
            write!(f, "?")?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownZone {}

const RAILS_TSV: &str = include_str!("../data/rails-time-zones.tsv");
const WINDOWS_TSV: &str = include_str!("../data/windows-time-zones.tsv");

/// One accepted name.
#[derive(Clone, Copy, Debug)]
pub struct KnownName {
    /// The canonical spelling.
    pub name: &'static str,
    /// The IANA zone it maps to.
    pub tz: Tz,
    /// Its naming scheme.
    pub kind: ZoneKind,
}

struct NameIndex {
    all: Vec<KnownName>,
    /// lower-cased name -> index into `all`; Rails first, then Windows, then IANA
    /// (first writer wins, so `UTC` resolves as a Rails name).
    by_lower: HashMap<String, usize>,
}

/// Parses an embedded `name<TAB>iana` table; `iana` maps IANA names to zones
/// (a plain map, not chrono-tz's `FromStr`, whose lookup tables would ship in
/// the wasm build only for this).
fn parse_tsv(
    text: &'static str,
    kind: ZoneKind,
    iana: &HashMap<&'static str, Tz>,
    out: &mut Vec<KnownName>,
) {
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let (name, zone) = line
            .split_once('\t')
            .expect("embedded zone table: name<TAB>iana");
        let tz = *iana
            .get(zone)
            .expect("embedded zone table names a zone chrono-tz knows");
        out.push(KnownName { name, tz, kind });
    }
}

fn index() -> &'static NameIndex {
    static INDEX: OnceLock<NameIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut all = Vec::with_capacity(160 + 145 + chrono_tz::TZ_VARIANTS.len());
        let iana: HashMap<&'static str, Tz> = chrono_tz::TZ_VARIANTS
            .iter()
            .map(|&tz| (tz.name(), tz))
            .collect();
        parse_tsv(RAILS_TSV, ZoneKind::Rails, &iana, &mut all);
        parse_tsv(WINDOWS_TSV, ZoneKind::Windows, &iana, &mut all);
        for tz in chrono_tz::TZ_VARIANTS {
            all.push(KnownName {
                name: tz.name(),
                tz,
                kind: ZoneKind::Iana,
            });
        }
        let mut by_lower = HashMap::with_capacity(all.len());
        for (i, k) in all.iter().enumerate() {
            by_lower.entry(k.name.to_ascii_lowercase()).or_insert(i);
        }
        NameIndex { all, by_lower }
    })
}

/// Every accepted name: the Rails names, then the Windows ids, then the IANA names.
pub fn known_names() -> &'static [KnownName] {
    &index().all
}

/// Resolve a zone name (Rails, Windows or IANA), ignoring ASCII case and
/// surrounding whitespace. An empty or whitespace-only name is `UTC`: a
/// config's blank `time_zone` means UTC (see `docs/semantics.md`, "Time zones"). Faces that
/// resolve a name a person typed (`routecap zones`) refuse a blank one first.
pub fn resolve(name: &str) -> Result<ResolvedZone, UnknownZone> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Ok(ResolvedZone {
            tz: Tz::UTC,
            kind: ZoneKind::Iana,
            canonical: "UTC",
        });
    }
    if trimmed.len() > MAX_ZONE_NAME_BYTES {
        let mut cut = MAX_ZONE_NAME_BYTES;
        while !trimmed.is_char_boundary(cut) {
            cut -= 1;
        }
        return Err(UnknownZone {
            input: trimmed[..cut].to_string(),
            suggestions: Vec::new(),
            too_long: true,
        });
    }
    let idx = index();
    match idx.by_lower.get(&trimmed.to_ascii_lowercase()) {
        Some(&i) => {
            let k = idx.all[i];
            Ok(ResolvedZone {
                tz: k.tz,
                kind: k.kind,
                canonical: k.name,
            })
        }
        None => Err(UnknownZone {
            input: name.to_string(),
            suggestions: suggest(trimmed),
            too_long: false,
        }),
    }
}

/// Up to three known names closest to `input`: names containing the input
/// first, then names sharing a word with it (`Eastern` → `US/Eastern`), then
/// by case-insensitive edit distance.
pub fn suggest(input: &str) -> Vec<&'static str> {
    let needle = input.trim().to_ascii_lowercase();
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| w.len() >= 3 && !matches!(*w, "time" | "standard" | "daylight"))
            .map(str::to_string)
            .collect()
    };
    let needle_words = words(&needle);
    let mut scored: Vec<(usize, usize, &'static str)> = index()
        .all
        .iter()
        .map(|k| {
            let hay = k.name.to_ascii_lowercase();
            let rank = if !needle.is_empty() && hay.contains(&needle) {
                0
            } else if words(&hay).iter().any(|w| needle_words.contains(w)) {
                1
            } else {
                2
            };
            (rank, strsim::levenshtein(&needle, &hay), k.name)
        })
        .collect();
    scored.sort();
    let mut out: Vec<&'static str> = Vec::with_capacity(3);
    for (_, _, name) in scored {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(name)) {
            out.push(name);
        }
        if out.len() == 3 {
            break;
        }
    }
    out
}

/// A span of constant UTC offset: `[start, end)` in Unix seconds,
/// `None` = unbounded on that side (within the supported range).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetSpan {
    /// First instant of the span (Unix seconds), `None` = from the start of time.
    pub start: Option<i64>,
    /// First instant after the span (Unix seconds), `None` = forever.
    pub end: Option<i64>,
    /// `local - utc` in seconds throughout the span.
    pub offset: i32,
}

/// The offset rules of one zone: an explicit, sorted transition table.
#[derive(Debug)]
pub struct ZoneRules {
    tz: Tz,
    /// Offset in force before the first transition.
    initial_offset: i32,
    /// `(instant, offset from that instant on)`, strictly increasing instants.
    transitions: Vec<(i64, i32)>,
}

/// Every zone's transition table, generated by `build.rs` (layout there).
static TABLES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/zone_tables.bin"));

/// Reads the generated tables; `None` only if they were malformed.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn u32_le(&mut self) -> Option<u32> {
        let b = self.bytes.get(self.pos..self.pos + 4)?;
        self.pos += 4;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    fn zigzag(&mut self) -> Option<i64> {
        let v = self.varint()?;
        Some((v >> 1) as i64 ^ -((v & 1) as i64))
    }
}

/// Decode the table of `tz`: `(initial offset, transitions)`.
fn decode(tz: Tz) -> Option<(i32, Vec<(i64, i32)>)> {
    let mut r = Reader {
        bytes: TABLES,
        pos: 0,
    };
    let n = r.u32_le()? as usize;
    let i = tz as usize;
    if i >= n {
        return None;
    }
    r.pos = 4 + 4 * i;
    r.pos = r.u32_le()? as usize;
    let palette_len = r.varint()? as usize;
    let mut palette = Vec::with_capacity(palette_len);
    for _ in 0..palette_len {
        palette.push(i32::try_from(r.zigzag()?).ok()?);
    }
    let initial = *palette.get(usize::from(r.byte()?))?;
    let count = r.varint()? as usize;
    let repeat = r.varint()? as usize;
    let mut transitions = Vec::with_capacity(count);
    let mut at = MIN_SUPPORTED;
    for _ in 0..count {
        let gap = r.varint()?;
        let secs = if gap & 1 == 0 {
            (gap >> 1) * 60
        } else {
            gap >> 1
        };
        at = at.checked_add(i64::try_from(secs).ok()?)?;
        transitions.push((at, 0));
    }
    // the offsets' column follows the gaps' (layout in build.rs)
    for t in &mut transitions {
        t.1 = *palette.get(usize::from(r.byte()?))?;
    }
    // the rest repeats every 28 years (layout in build.rs)
    if repeat > 0 {
        let mut j = transitions.len().checked_sub(repeat)?;
        while transitions[j].0 + CYCLE < MAX_SUPPORTED {
            transitions.push((transitions[j].0 + CYCLE, transitions[j].1));
            j += 1;
        }
    }
    Some((initial, transitions))
}

impl ZoneRules {
    /// The transition table of `tz` over the supported range (decoded from
    /// the tables generated at build time: a few microseconds).
    pub fn new(tz: Tz) -> Self {
        let (initial_offset, transitions) =
            decode(tz).expect("generated zone tables cover every chrono-tz zone");
        ZoneRules {
            tz,
            initial_offset,
            transitions,
        }
    }

    /// The chrono-tz zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// All transitions `(instant, new offset)` in the supported range.
    pub fn transitions(&self) -> &[(i64, i32)] {
        &self.transitions
    }

    /// Number of transitions at or before `t`.
    fn count_le(&self, t: i64) -> usize {
        self.transitions.partition_point(|&(at, _)| at <= t)
    }

    /// `local - utc` in seconds at Unix second `t`.
    pub fn offset_at(&self, t: i64) -> i32 {
        match self.count_le(t) {
            0 => self.initial_offset,
            n => self.transitions[n - 1].1,
        }
    }

    /// The span of constant offset that contains Unix second `t`.
    pub fn span_at(&self, t: i64) -> OffsetSpan {
        let n = self.count_le(t);
        let start = if n == 0 {
            None
        } else {
            Some(self.transitions[n - 1].0)
        };
        let end = self.transitions.get(n).map(|&(at, _)| at);
        OffsetSpan {
            start,
            end,
            offset: self.offset_at(t),
        }
    }
}

/// A zone as used by targets and groups: the chrono-tz zone plus its
/// transition table (shared, cheap to clone).
#[derive(Clone)]
pub struct Zone {
    rules: Arc<ZoneRules>,
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({})", self.rules.tz.name())
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.rules.tz == other.rules.tz
    }
}
impl Eq for Zone {}

impl Zone {
    /// Build a zone (decodes its transition table: microseconds; use a
    /// [`ZoneCache`](crate::zone_cache::ZoneCache) to share one per distinct zone).
    pub fn new(tz: Tz) -> Self {
        Zone {
            rules: Arc::new(ZoneRules::new(tz)),
        }
    }

    /// UTC.
    pub fn utc() -> Self {
        Zone::new(Tz::UTC)
    }

    /// The chrono-tz zone.
    pub fn tz(&self) -> Tz {
        self.rules.tz
    }

    /// The IANA name.
    pub fn name(&self) -> &'static str {
        self.rules.tz.name()
    }

    /// The transition table.
    pub fn rules(&self) -> &ZoneRules {
        &self.rules
    }

    /// `local - utc` in seconds at `t`.
    pub fn offset_at(&self, t: Instant) -> i32 {
        self.rules.offset_at(t.timestamp())
    }

    /// The local wall-clock time at `t`.
    pub fn local(&self, t: Instant) -> NaiveDateTime {
        let off = self.offset_at(t) as i64;
        DateTime::from_timestamp(t.timestamp() + off, t.timestamp_subsec_nanos())
            .expect("supported instants have a local time")
            .naive_utc()
    }

    /// `t` as a fixed-offset date-time in this zone (for `local_time` outputs).
    pub fn local_fixed(&self, t: Instant) -> DateTime<chrono::FixedOffset> {
        let off = chrono::FixedOffset::east_opt(self.offset_at(t)).expect("offset within a day");
        t.with_timezone(&off)
    }

    /// The span of constant offset containing `t`.
    pub fn span_at(&self, t: i64) -> OffsetSpan {
        self.rules.span_at(t)
    }
}

/// RFC 3339 text of an instant, as every face prints it.
pub(crate) fn fmt_instant(t: Instant) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_agrees_with_chrono_tz_hourly_for_new_york_2026() {
        let z = Zone::new(chrono_tz::America::New_York);
        let start = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .unwrap()
            .timestamp();
        for h in 0..(366 * 24) {
            let t = start + h * 3600 + 1799;
            assert_eq!(z.rules().offset_at(t), chrono_offset(z.tz(), t), "at {t}");
        }
    }

    #[test]
    fn new_york_2026_transitions_exact() {
        let z = Zone::new(chrono_tz::America::New_York);
        let spring = Utc
            .with_ymd_and_hms(2026, 3, 8, 7, 0, 0)
            .unwrap()
            .timestamp();
        let fall = Utc
            .with_ymd_and_hms(2026, 11, 1, 6, 0, 0)
            .unwrap()
            .timestamp();
        assert!(z.rules().transitions().contains(&(spring, -4 * 3600)));
        assert!(z.rules().transitions().contains(&(fall, -5 * 3600)));
        let span = z.span_at(spring + 10);
        assert_eq!(span.start, Some(spring));
        assert_eq!(span.end, Some(fall));
        assert_eq!(span.offset, -4 * 3600);
    }

    #[test]
    fn generated_tables_equal_runtime_probing_for_every_zone() {
        for tz in chrono_tz::TZ_VARIANTS {
            let rules = ZoneRules::new(tz);
            let (initial, transitions) = crate::zone_transitions::probe(tz);
            assert_eq!(rules.initial_offset, initial, "{}", tz.name());
            assert_eq!(rules.transitions(), &transitions[..], "{}", tz.name());
        }
    }

    #[test]
    fn generated_tables_share_data_between_links() {
        // US/Eastern is a link to America/New_York: one table in the blob.
        let pos = |tz: Tz| {
            let i = 4 + 4 * tz as usize;
            TABLES.get(i..i + 4).map(|b| b.to_vec())
        };
        assert_eq!(
            pos(chrono_tz::US::Eastern),
            pos(chrono_tz::America::New_York)
        );
        assert_ne!(
            pos(chrono_tz::Europe::Paris),
            pos(chrono_tz::America::New_York)
        );
    }

    #[test]
    fn rules_new_timing_is_printed() {
        // Not asserted on time: prints how long decoding every zone takes.
        let t0 = std::time::Instant::now();
        let total: usize = chrono_tz::TZ_VARIANTS
            .iter()
            .map(|&tz| ZoneRules::new(tz).transitions().len())
            .sum();
        let per = t0.elapsed() / chrono_tz::TZ_VARIANTS.len() as u32;
        let t1 = std::time::Instant::now();
        for tz in [chrono_tz::America::New_York, chrono_tz::Europe::Paris] {
            assert!(!crate::zone_transitions::probe(tz).1.is_empty());
        }
        let probe = t1.elapsed() / 2;
        println!(
            "ZoneRules::new: {per:?} per zone ({total} transitions in all); probing: {probe:?}"
        );
        assert!(total > 0);
    }

    #[test]
    fn utc_has_no_transitions() {
        let z = Zone::utc();
        assert!(z.rules().transitions().is_empty());
        assert_eq!(
            z.span_at(1_000_000),
            OffsetSpan {
                start: None,
                end: None,
                offset: 0
            }
        );
    }

    #[test]
    fn resolves_case_insensitively_and_trims() {
        let r = resolve("  eastern time (us & canada) ").unwrap();
        assert_eq!(r.tz, chrono_tz::America::New_York);
        assert_eq!(r.kind, ZoneKind::Rails);
        let w = resolve("ROMANCE STANDARD TIME").unwrap();
        assert_eq!(w.tz, chrono_tz::Europe::Paris);
        assert_eq!(w.kind, ZoneKind::Windows);
        let i = resolve("america/new_york").unwrap();
        assert_eq!(i.kind, ZoneKind::Iana);
        assert_eq!(resolve("").unwrap().tz, Tz::UTC);
    }

    #[test]
    fn unknown_zone_suggests() {
        let e = resolve("Eastern Time").unwrap_err();
        assert_eq!(e.input, "Eastern Time");
        assert!(!e.suggestions.is_empty() && e.suggestions.len() <= 3);
        assert!(e
            .to_string()
            .starts_with("unknown time zone \"Eastern Time\""));
    }
}
