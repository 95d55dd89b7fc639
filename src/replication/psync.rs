//! The PSYNC decision (replication.md §3.2) as one pure function, so every branch is testable.

/// What a master answers to `PSYNC <id> <offset>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// `+CONTINUE`: send the backlog from the requested offset.
    Continue,
    /// `+FULLRESYNC`, and why (logged and counted per reason).
    Full(FullReason),
}

/// Why a partial resynchronization was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FullReason {
    /// `PSYNC ? -1`: the replica has no history.
    FirstSync,
    /// The replication id is neither ours nor our previous one (or the previous one's range
    /// ended before the requested offset).
    ReplidMismatch,
    /// No backlog exists.
    NoBacklog,
    /// The offset is older than the backlog's first byte.
    OffsetBeforeBacklog,
    /// The offset is past our end.
    OffsetPastEnd,
}

impl FullReason {
    /// Short name used in logs and the `sync_full_reason_<name>` INFO counters.
    pub fn name(self) -> &'static str {
        match self {
            FullReason::FirstSync => "first_sync",
            FullReason::ReplidMismatch => "replid_mismatch",
            FullReason::NoBacklog => "no_backlog",
            FullReason::OffsetBeforeBacklog => "offset_before_backlog",
            FullReason::OffsetPastEnd => "offset_past_end",
        }
    }
}

/// The replication identity and backlog range a decision is made against.
#[derive(Debug, Clone, Copy)]
pub struct History<'a> {
    pub replid: &'a str,
    pub replid2: &'a str,
    pub second_replid_offset: i64,
    /// `(first byte offset, histlen)` of the backlog, if one exists.
    pub backlog: Option<(i64, i64)>,
}

/// Decides between `+CONTINUE` and `+FULLRESYNC` exactly as Redis 7.0 does.
pub fn decide(req_id: &str, req_off: i64, h: History<'_>) -> Decision {
    if req_id == "?" {
        return Decision::Full(FullReason::FirstSync);
    }
    let ours = req_id.eq_ignore_ascii_case(h.replid);
    let previous = req_id.eq_ignore_ascii_case(h.replid2) && req_off <= h.second_replid_offset;
    if !ours && !previous {
        return Decision::Full(FullReason::ReplidMismatch);
    }
    let Some((first, histlen)) = h.backlog else {
        return Decision::Full(FullReason::NoBacklog);
    };
    if req_off < first {
        return Decision::Full(FullReason::OffsetBeforeBacklog);
    }
    if req_off > first + histlen {
        return Decision::Full(FullReason::OffsetPastEnd);
    }
    Decision::Continue
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const Z: &str = "0000000000000000000000000000000000000000";

    fn h(backlog: Option<(i64, i64)>) -> History<'static> {
        History {
            replid: A,
            replid2: B,
            second_replid_offset: 3000,
            backlog,
        }
    }

    #[test]
    fn every_branch() {
        let bl = Some((1001, 2000)); // bytes 1001..=3000 held, master offset 3000
        assert_eq!(
            decide("?", -1, h(bl)),
            Decision::Full(FullReason::FirstSync)
        );
        assert_eq!(decide(A, 1001, h(bl)), Decision::Continue);
        assert_eq!(decide(A, 3000, h(bl)), Decision::Continue);
        // Inclusive upper bound: "I have everything".
        assert_eq!(decide(A, 3001, h(bl)), Decision::Continue);
        assert_eq!(
            decide(A, 3002, h(bl)),
            Decision::Full(FullReason::OffsetPastEnd)
        );
        assert_eq!(
            decide(A, 1000, h(bl)),
            Decision::Full(FullReason::OffsetBeforeBacklog)
        );
        assert_eq!(decide(&A.to_uppercase(), 2000, h(bl)), Decision::Continue);
        // The previous id is accepted up to second_replid_offset.
        assert_eq!(decide(B, 3000, h(bl)), Decision::Continue);
        assert_eq!(
            decide(B, 3001, h(bl)),
            Decision::Full(FullReason::ReplidMismatch)
        );
        assert_eq!(
            decide(Z, 10, h(bl)),
            Decision::Full(FullReason::ReplidMismatch)
        );
        assert_eq!(
            decide(A, 1500, h(None)),
            Decision::Full(FullReason::NoBacklog)
        );
        // Never CONTINUE to "?" even when the offset looks valid.
        assert_eq!(
            decide("?", 1500, h(bl)),
            Decision::Full(FullReason::FirstSync)
        );
    }
}
