//! Config formats (in progress).
