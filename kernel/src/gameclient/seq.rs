//! `ud` continuity: once logged in, every packet the server sends carries `ud` = the player's
//! packet sequence, exactly one more than the packet before (docs/PROTOCOL.md, "Sequence
//! numbers"). The tracker counts every way a stream breaks that rule.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeqStats {
    /// Packets that carried a `ud`.
    pub sequenced: u64,
    /// Times the sequence jumped forward (`ud` > last + 1).
    pub gaps: u64,
    /// Packets skipped over by those jumps.
    pub missing: u64,
    /// Packets whose `ud` was not above the last one (repeats, or out of order).
    pub duplicates: u64,
    /// Packets after login without a `ud`.
    pub unsequenced: u64,
}

impl SeqStats {
    pub fn add(&mut self, o: &SeqStats) {
        self.sequenced += o.sequenced;
        self.gaps += o.gaps;
        self.missing += o.missing;
        self.duplicates += o.duplicates;
        self.unsequenced += o.unsequenced;
    }

    /// Whether any packet broke the rule.
    pub fn broken(&self) -> bool {
        self.gaps + self.duplicates + self.unsequenced > 0
    }
}

#[derive(Debug, Clone, Default)]
pub struct SeqTracker {
    last: Option<i64>,
    logged_in: bool,
    stats: SeqStats,
}

impl SeqTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// A tracker for a resumed session whose last packet had `ud = last`.
    pub fn resuming(last: i64) -> Self {
        SeqTracker {
            last: Some(last),
            logged_in: true,
            stats: SeqStats::default(),
        }
    }

    /// From now on every packet must carry a `ud`.
    pub fn set_logged_in(&mut self) {
        self.logged_in = true;
    }

    /// The session ended (a successful `logout`): what follows, such as the `kick` that
    /// closes the connection, needs no `ud`.
    pub fn set_logged_out(&mut self) {
        self.logged_in = false;
    }

    pub fn logged_in(&self) -> bool {
        self.logged_in
    }

    /// The server restarted the sequence (a reconnect that could not resume): continue from `last`.
    pub fn reset(&mut self, last: i64) {
        self.last = Some(last);
    }

    /// The `ud` of the last packet in order (what `reconnect.last_seq` echoes).
    pub fn last(&self) -> Option<i64> {
        self.last
    }

    pub fn stats(&self) -> &SeqStats {
        &self.stats
    }

    /// Account for one packet from the server.
    pub fn observe(&mut self, ud: Option<i64>) {
        let Some(ud) = ud else {
            if self.logged_in {
                self.stats.unsequenced += 1;
            }
            return;
        };
        self.stats.sequenced += 1;
        match self.last {
            None => self.last = Some(ud),
            Some(last) if ud == last.wrapping_add(1) => self.last = Some(ud),
            Some(last) if ud <= last => self.stats.duplicates += 1,
            Some(last) => {
                self.stats.gaps += 1;
                self.stats.missing += (ud - last - 1) as u64;
                self.last = Some(ud);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuous_sequence_is_clean() {
        let mut t = SeqTracker::new();
        t.observe(None); // handshake answers before login carry no ud
        t.set_logged_in();
        for ud in 1..=100 {
            t.observe(Some(ud));
        }
        assert_eq!(t.last(), Some(100));
        assert_eq!(
            t.stats(),
            &SeqStats {
                sequenced: 100,
                ..SeqStats::default()
            }
        );
        assert!(!t.stats().broken());
    }

    #[test]
    fn gaps_duplicates_and_missing_ud_are_counted() {
        let mut t = SeqTracker::new();
        t.set_logged_in();
        for ud in [5, 6, 9, 9, 7, 10, 14] {
            t.observe(Some(ud));
        }
        t.observe(None);
        let s = t.stats();
        assert_eq!(s.gaps, 2, "6->9 and 10->14");
        assert_eq!(s.missing, 2 + 3);
        assert_eq!(s.duplicates, 2, "9 again, then 7 after 9");
        assert_eq!(s.unsequenced, 1);
        assert_eq!(t.last(), Some(14));
        assert!(s.broken());
    }

    #[test]
    fn resuming_checks_the_replay_continues() {
        let mut t = SeqTracker::resuming(41);
        t.observe(Some(42));
        t.observe(Some(43));
        assert!(!t.stats().broken());
        let mut t = SeqTracker::resuming(41);
        t.observe(Some(41));
        assert_eq!(t.stats().duplicates, 1);
        t.reset(100);
        t.observe(Some(101));
        assert_eq!(t.stats().gaps, 0);
    }

    #[test]
    fn after_logout_a_missing_ud_is_fine() {
        let mut t = SeqTracker::new();
        t.set_logged_in();
        t.observe(Some(1));
        t.set_logged_out();
        t.observe(None);
        assert!(!t.stats().broken());
        assert_eq!(t.last(), Some(1));
    }

    #[test]
    fn before_login_a_missing_ud_is_fine() {
        let mut t = SeqTracker::new();
        t.observe(None);
        t.observe(None);
        assert!(!t.stats().broken());
    }
}
