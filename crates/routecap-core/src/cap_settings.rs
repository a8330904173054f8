//! A target's cap limits and imported usage, packed: only the limits that
//! are set and the usage values that are not zero are stored.
//!
//! [`Limits`] and [`Usage`] take 216 bytes side by side; a target with three
//! caps and their usage packs into 24 bytes plus six words on the heap. At a
//! million targets that is most of a target's config (issue 15). Decisions
//! never read these: the eligibility checker keeps its own compact copy.

use std::ops::{Deref, DerefMut};

use crate::caps::{Limits, Usage};
use crate::money::Money;

/// Number of packed fields: 9 limits, then 9 usage values.
const FIELDS: usize = 18;
/// First usage bit.
const USAGE: usize = 9;

/// Limits and usage of one owner. Bit `i` of `present` says field `i` is
/// stored: limits 0..9 (hourly, daily, monthly, total, the four revenues in
/// the same order, concurrency) when `Some`, usage 9..18 (hourly, daily,
/// monthly, total, live, the four revenues) when not zero. `values` holds
/// the stored fields in bit order, money as its `i64` bits — one canonical
/// form per value, so the derived equality is the values' equality.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct CapSettings {
    present: u32,
    values: Box<[u64]>,
}

fn money(m: Option<Money>) -> Option<u64> {
    m.map(|m| m.0 as u64)
}

fn nonzero(v: u64) -> Option<u64> {
    (v != 0).then_some(v)
}

impl CapSettings {
    /// Pack `limits` and `usage`.
    pub fn new(limits: &Limits, usage: &Usage) -> Self {
        let l = limits;
        let u = usage;
        let fields: [Option<u64>; FIELDS] = [
            l.hourly,
            l.daily,
            l.monthly,
            l.total,
            money(l.hourly_revenue),
            money(l.daily_revenue),
            money(l.monthly_revenue),
            money(l.total_revenue),
            l.concurrency,
            nonzero(u.hourly),
            nonzero(u.daily),
            nonzero(u.monthly),
            nonzero(u.total),
            nonzero(u.live),
            nonzero(u.hourly_revenue.0 as u64),
            nonzero(u.daily_revenue.0 as u64),
            nonzero(u.monthly_revenue.0 as u64),
            nonzero(u.total_revenue.0 as u64),
        ];
        let mut present = 0;
        for (i, f) in fields.iter().enumerate() {
            if f.is_some() {
                present |= 1 << i;
            }
        }
        CapSettings {
            present,
            values: fields.into_iter().flatten().collect(),
        }
    }

    /// Every field, `None` where not stored. Visits only the stored ones
    /// (a few per target): the naive bench peer unpacks every target per
    /// decision.
    fn fields(&self) -> [Option<u64>; FIELDS] {
        let mut out = [None; FIELDS];
        let mut bits = self.present;
        for &v in self.values.iter() {
            if let Some(f) = out.get_mut(bits.trailing_zeros() as usize) {
                *f = Some(v);
            }
            bits &= bits.wrapping_sub(1);
        }
        out
    }

    /// The limits.
    pub fn limits(&self) -> Limits {
        Self::limits_of(&self.fields())
    }

    /// The limits and the usage, unpacked once.
    pub fn unpack(&self) -> (Limits, Usage) {
        let f = self.fields();
        (Self::limits_of(&f), Self::usage_of(&f))
    }

    fn limits_of(f: &[Option<u64>; FIELDS]) -> Limits {
        let m = |v: Option<u64>| v.map(|v| Money(v as i64));
        Limits {
            hourly: f[0],
            daily: f[1],
            monthly: f[2],
            total: f[3],
            hourly_revenue: m(f[4]),
            daily_revenue: m(f[5]),
            monthly_revenue: m(f[6]),
            total_revenue: m(f[7]),
            concurrency: f[8],
        }
    }

    /// The usage.
    pub fn usage(&self) -> Usage {
        Self::usage_of(&self.fields())
    }

    fn usage_of(f: &[Option<u64>; FIELDS]) -> Usage {
        let c = |i: usize| f[USAGE + i].unwrap_or(0);
        let m = |i: usize| Money(c(i) as i64);
        Usage {
            hourly: c(0),
            daily: c(1),
            monthly: c(2),
            total: c(3),
            live: c(4),
            hourly_revenue: m(5),
            daily_revenue: m(6),
            monthly_revenue: m(7),
            total_revenue: m(8),
        }
    }

    /// Whether no limit is set.
    pub fn is_unlimited(&self) -> bool {
        self.present & ((1 << USAGE) - 1) == 0
    }

    /// Replace the limits, keeping the usage.
    pub fn set_limits(&mut self, limits: &Limits) {
        *self = CapSettings::new(limits, &self.usage());
    }

    /// Replace the usage, keeping the limits.
    pub fn set_usage(&mut self, usage: &Usage) {
        *self = CapSettings::new(&self.limits(), usage);
    }
}

/// Unpacked limits or usage being edited in place; packed back when dropped,
/// so `target.limits_mut().daily = Some(5)` reads like a field write.
pub struct CapsEdit<'a, T> {
    caps: &'a mut CapSettings,
    value: T,
    write: fn(&mut CapSettings, &T),
}

impl<'a> CapsEdit<'a, Limits> {
    /// Edit the limits of `caps`.
    pub fn limits(caps: &'a mut CapSettings) -> Self {
        let value = caps.limits();
        CapsEdit {
            caps,
            value,
            write: CapSettings::set_limits,
        }
    }
}

impl<'a> CapsEdit<'a, Usage> {
    /// Edit the usage of `caps`.
    pub fn usage(caps: &'a mut CapSettings) -> Self {
        let value = caps.usage();
        CapsEdit {
            caps,
            value,
            write: CapSettings::set_usage,
        }
    }
}

impl<T> Deref for CapsEdit<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for CapsEdit<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T> Drop for CapsEdit<'_, T> {
    fn drop(&mut self) {
        (self.write)(self.caps, &self.value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn limits() -> impl Strategy<Value = Limits> {
        let c = || proptest::option::of(any::<u64>());
        let m = || proptest::option::of(any::<i64>().prop_map(Money));
        ((c(), c(), c(), c(), c()), (m(), m(), m(), m())).prop_map(
            |((h, d, mo, t, cc), (hr, dr, mr, tr))| Limits {
                hourly: h,
                daily: d,
                monthly: mo,
                total: t,
                hourly_revenue: hr,
                daily_revenue: dr,
                monthly_revenue: mr,
                total_revenue: tr,
                concurrency: cc,
            },
        )
    }

    fn usage() -> impl Strategy<Value = Usage> {
        // zeros are common in real usage: make them likely
        let c = || prop_oneof![Just(0u64), any::<u64>()];
        let m = || prop_oneof![Just(0i64), any::<i64>()].prop_map(Money);
        ((c(), c(), c(), c(), c()), (m(), m(), m(), m())).prop_map(
            |((h, d, mo, t, live), (hr, dr, mr, tr))| Usage {
                hourly: h,
                daily: d,
                monthly: mo,
                total: t,
                live,
                hourly_revenue: hr,
                daily_revenue: dr,
                monthly_revenue: mr,
                total_revenue: tr,
            },
        )
    }

    proptest! {
        /// Packing loses nothing, and equal packs mean equal values.
        #[test]
        fn round_trips(l in limits(), u in usage(), l2 in limits(), u2 in usage()) {
            let p = CapSettings::new(&l, &u);
            prop_assert_eq!(p.limits(), l.clone());
            prop_assert_eq!(p.usage(), u.clone());
            prop_assert_eq!(p.unpack(), (l.clone(), u.clone()));
            prop_assert_eq!(p.is_unlimited(), l.is_unlimited());
            let q = CapSettings::new(&l2, &u2);
            prop_assert_eq!(p == q, (&l, &u) == (&l2, &u2));
        }

        /// An edit through the guard is the same as packing the edited values.
        #[test]
        fn edits_write_back(l in limits(), u in usage(), l2 in limits(), u2 in usage()) {
            let mut p = CapSettings::new(&l, &u);
            *CapsEdit::limits(&mut p) = l2.clone();
            prop_assert_eq!(&p, &CapSettings::new(&l2, &u));
            CapsEdit::usage(&mut p).daily = u2.daily;
            let want = Usage { daily: u2.daily, ..u.clone() };
            prop_assert_eq!(&p, &CapSettings::new(&l2, &want));
        }
    }

    #[test]
    fn stores_only_what_is_set() {
        let l = Limits {
            daily: Some(0),
            concurrency: Some(3),
            ..Limits::default()
        };
        let u = Usage {
            daily: 7,
            ..Usage::default()
        };
        let p = CapSettings::new(&l, &u);
        assert_eq!(p.values.len(), 3);
        assert_eq!(CapSettings::default().values.len(), 0);
        assert!(CapSettings::new(&Limits::default(), &u).is_unlimited());
        assert!(!p.is_unlimited());
    }
}
