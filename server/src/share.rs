//! Each person's share of the sync hub's time.
//!
//! The hub is one task, and Automerge cannot be interrupted in the middle of applying a
//! message: while it works on one person's message everyone else waits. The bounds on a
//! message (`shared::protocol::bounds`, the frame limit) cap what one message costs; the
//! person's turns ([`crate::sync::FRAMES_IN_HUB`]) cap how many of theirs wait at once.
//! What is left is a person who keeps sending costly messages one after the other: the
//! hub's time spent on each person's messages is charged to them, and forgiven at
//! [`Budget::share`] of the time that passes. Past [`Budget::burst`] of unforgiven time,
//! their connections are closed and new ones refused until half of it is forgiven. A
//! phone's honest sync — a week of rounds, a first fetch of a site — costs a fraction of
//! a second to a few seconds; benchmark peers without a session are not charged.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use shared::directory::Username;

use crate::token_bucket::{Rate, TokenBucket};

/// How much of the hub's time one person may take.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Time a person may take at once before being refused.
    pub burst: Duration,
    /// The part of the time passing that is forgiven: the share one person may keep
    /// taking for ever.
    pub share: f64,
}

impl Budget {
    /// The budget as a bucket of seconds: a person holds the burst at first and earns
    /// back the share of each second that passes.
    fn rate(self) -> Rate {
        Rate { burst: self.burst.as_secs_f64(), per_second: self.share }
    }
}

impl Default for Budget {
    fn default() -> Budget {
        Budget { burst: Duration::from_secs(10), share: 0.5 }
    }
}

/// The time charged to each person, and whether they are refused.
#[derive(Default)]
pub struct Shares {
    owed: HashMap<Username, Owed>,
}

/// A person's seconds of the hub: charged past the bucket's level (below zero is past the
/// burst), they are refused until it is back at half the burst.
struct Owed {
    seconds: TokenBucket,
    refused: bool,
}

impl Owed {
    /// Lifts a refusal once the time passed has forgiven half the burst.
    fn settle(&mut self, now: Instant, budget: Budget) {
        if self.refused && self.seconds.level(budget.rate(), now) >= budget.burst.as_secs_f64() / 2.0 {
            self.refused = false;
        }
    }
}

impl Shares {
    /// Charges `took` to `who` at `now`; says whether this charge took them past their
    /// burst (their connections are then closed).
    pub fn charge(&mut self, who: &Username, took: Duration, now: Instant, budget: Budget) -> bool {
        let owed = self.owed.entry(who.clone()).or_insert(Owed { seconds: TokenBucket::full(now), refused: false });
        owed.settle(now, budget);
        owed.seconds.charge(took.as_secs_f64(), budget.rate(), now);
        let newly = !owed.refused && owed.seconds.level(budget.rate(), now) < 0.0;
        owed.refused |= newly;
        newly
    }

    /// Whether `who` is refused now (asked when they connect).
    pub fn refused(&mut self, who: &Username, now: Instant, budget: Budget) -> bool {
        let Some(owed) = self.owed.get_mut(who) else { return false };
        owed.settle(now, budget);
        owed.refused
    }

    /// Forgets those who owe nothing any more.
    pub fn tidy(&mut self, now: Instant, budget: Budget) {
        self.owed.retain(|_, owed| {
            owed.settle(now, budget);
            !owed.seconds.is_full(budget.rate(), now) || owed.refused
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> Username {
        Username::parse("busy").unwrap()
    }

    #[test]
    fn a_person_past_the_burst_is_refused_until_half_is_forgiven() {
        let budget = Budget { burst: Duration::from_secs(10), share: 0.5 };
        let mut shares = Shares::default();
        let start = Instant::now();
        let at = |seconds: f64| start + Duration::from_secs_f64(seconds);
        // One second of work every second: half of it is forgiven, the rest adds up.
        let mut tripped = None;
        for second in 1..=40 {
            if shares.charge(&person(), Duration::from_secs(1), at(f64::from(second)), budget) {
                tripped = Some(second);
                break;
            }
        }
        // Owed after n seconds: n − (n−1)/2; past 10 at n = 20.
        assert_eq!(tripped, Some(20));
        assert!(shares.refused(&person(), at(20.0), budget));
        assert!(!shares.charge(&person(), Duration::from_secs(1), at(20.5), budget), "told once");
        // 11.25 owed: refused until it is 5, 12.5 s later.
        assert!(shares.refused(&person(), at(32.0), budget));
        assert!(!shares.refused(&person(), at(33.5), budget));
        shares.tidy(at(60.0), budget);
        assert!(shares.owed.is_empty());
    }

    #[test]
    fn work_within_the_share_is_never_refused() {
        let budget = Budget::default();
        let mut shares = Shares::default();
        let start = Instant::now();
        for tenth in 0..100_000u32 {
            let now = start + Duration::from_millis(u64::from(tenth) * 100);
            assert!(!shares.charge(&person(), Duration::from_millis(50), now, budget), "half the time, for hours");
        }
    }
}
