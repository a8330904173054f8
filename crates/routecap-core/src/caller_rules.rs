//! The caller rules a config holds: a target's [`DuplicateRule`] and a
//! config's or campaign's [`RepeatRule`] (what they mean: [`crate::caller_history`]).
//! Plain config values, apart from the history that [`crate::caller_history`]
//! keeps and the reasons [`crate::eligibility`] builds from both, so the
//! config model can hold them without knowing either.

/// Which event makes a caller a duplicate for a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Basis {
    /// The caller connected to the target.
    Connect,
    /// The caller's call to the target converted.
    Convert,
}

impl Basis {
    /// Stable name: `connect`, `convert`.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Connect => "connect",
            Basis::Convert => "convert",
        }
    }
}

/// A target's duplicate-caller rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DuplicateRule {
    /// Which event counts.
    pub basis: Basis,
    /// How long after it the caller stays a duplicate, in seconds (≥ 1).
    pub window: u64,
}

/// What a repeat caller's call does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RepeatMode {
    /// Routed like any other call.
    Normal,
    /// The target they last connected to (within the window) comes first.
    Original,
    /// Targets they connected to within the window are ineligible.
    Different,
}

impl RepeatMode {
    /// Stable name: `normal`, `original`, `different`.
    pub fn as_str(self) -> &'static str {
        match self {
            RepeatMode::Normal => "normal",
            RepeatMode::Original => "original",
            RepeatMode::Different => "different",
        }
    }
}

/// A config's or campaign's repeat-caller rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RepeatRule {
    /// What happens to a repeat caller.
    pub mode: RepeatMode,
    /// How far back a connect makes the caller a repeat caller, in seconds.
    pub window: u64,
}
