//! Which groups contain each target, derived from the config once.

use crate::model::Config;

/// The groups of each target in one flat list: target `t`'s are
/// `groups[starts[t]..starts[t + 1]]`, ascending — 4 bytes per target
/// instead of a vector each (none at all when the config has no groups).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Memberships {
    /// `targets + 1` offsets into `groups` (memberships are config
    /// entries held in memory, so far fewer than `u32::MAX`); empty when
    /// no target is in a group.
    starts: Vec<u32>,
    groups: Vec<usize>,
}

impl Memberships {
    pub(super) fn new(config: &Config) -> Self {
        let n = config.targets.len();
        let mut pairs: Vec<(usize, usize)> = (config.groups.iter().enumerate())
            .flat_map(|(g, group)| group.members.iter().map(move |&t| (t, g)))
            .filter(|&(t, _)| t < n)
            .collect();
        if pairs.is_empty() {
            return Memberships::default();
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut starts = Vec::with_capacity(n + 1);
        let mut i = 0;
        for t in 0..=n {
            while pairs.get(i).is_some_and(|&(m, _)| m < t) {
                i += 1;
            }
            starts.push(u32::try_from(i).unwrap_or(u32::MAX));
        }
        let groups = pairs.into_iter().map(|(_, g)| g).collect();
        Memberships { starts, groups }
    }

    /// The groups of target `t`, ascending.
    pub(super) fn of(&self, t: usize) -> &[usize] {
        match (
            self.starts.get(t),
            t.checked_add(1).and_then(|u| self.starts.get(u)),
        ) {
            (Some(&a), Some(&b)) => self.groups.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}
