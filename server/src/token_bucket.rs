//! The one token bucket behind the server's paces: sign-in attempts (`auth`), a socket's
//! frames (`sync`), each person's share of the hub's time (`share`) and reports from the
//! public (`public`); and [`Paces`], a bounded table of buckets by key.
//!
//! A bucket holds at most [`Rate::burst`] turns and earns [`Rate::per_second`] back; what
//! it paces takes turns from it. The time and the rate are arguments, never read inside,
//! so the arithmetic is tested without a clock and a rate changed meanwhile (a test's
//! budget) applies from the next call on. A bucket keeps what was drawn from it rather
//! than what it holds: a new bucket is full whatever the rate, and a full one can be
//! forgotten, as a new one is the same.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many turns a bucket holds at most, and how fast it earns them back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    /// Turns held at most, and at the start: what may be taken at once.
    pub burst: f64,
    /// Turns earned back each second.
    pub per_second: f64,
}

/// Turns drawn and not yet earned back, as of a moment.
#[derive(Clone, Copy, Debug)]
pub struct TokenBucket {
    drawn: f64,
    at: Instant,
}

impl TokenBucket {
    /// A bucket holding its whole burst at `now`.
    pub fn full(now: Instant) -> TokenBucket {
        TokenBucket { drawn: 0.0, at: now }
    }

    /// What is drawn at `now`, once the time since the last draw has earned turns back.
    fn drawn_at(&self, rate: Rate, now: Instant) -> f64 {
        (self.drawn - now.saturating_duration_since(self.at).as_secs_f64() * rate.per_second).max(0.0)
    }

    fn settle(&mut self, rate: Rate, now: Instant) {
        self.drawn = self.drawn_at(rate, now);
        self.at = now;
    }

    /// The turns held at `now`: below zero when [`TokenBucket::charge`] drew past them.
    pub fn level(&self, rate: Rate, now: Instant) -> f64 {
        rate.burst - self.drawn_at(rate, now)
    }

    /// Whether the bucket holds its whole burst at `now`.
    pub fn is_full(&self, rate: Rate, now: Instant) -> bool {
        self.drawn_at(rate, now) <= 0.0
    }

    /// How long until `amount` turns are held, or `None` if they are at `now`.
    pub fn wait(&self, amount: f64, rate: Rate, now: Instant) -> Option<Duration> {
        let short = amount - self.level(rate, now);
        (short > 0.0).then(|| Duration::from_secs_f64(short / rate.per_second))
    }

    /// Takes `amount` turns if they are held at `now`; otherwise takes nothing and says how
    /// long until they are.
    pub fn take(&mut self, amount: f64, rate: Rate, now: Instant) -> Result<(), Duration> {
        match self.wait(amount, rate, now) {
            Some(wait) => Err(wait),
            None => {
                self.charge(amount, rate, now);
                Ok(())
            }
        }
    }

    /// Takes `amount` turns whether held or not, for what is spent before it can be
    /// counted (the hub's time on a message): the level may fall below zero, and is
    /// earned back at the same rate.
    pub fn charge(&mut self, amount: f64, rate: Rate, now: Instant) {
        self.settle(rate, now);
        self.drawn += amount;
    }

    /// Gives `amount` turns back, up to the burst.
    pub fn give_back(&mut self, amount: f64, rate: Rate, now: Instant) {
        self.settle(rate, now);
        self.drawn = (self.drawn - amount).max(0.0);
    }
}

/// A key of a [`Paces`] table, which knows the rate of its bucket.
pub trait Paced: Clone + Eq + Hash {
    fn rate(&self) -> Rate;
}

/// Token buckets by key, at most `max_tracked` of them: past that, buckets that have
/// refilled are forgotten (a new one is the same), and if that is not enough, the fullest
/// (those holding back least) go first.
pub struct Paces<K> {
    buckets: Mutex<HashMap<K, TokenBucket>>,
    max_tracked: usize,
}

impl<K: Paced> Paces<K> {
    pub fn new(max_tracked: usize) -> Paces<K> {
        Paces { buckets: Mutex::new(HashMap::new()), max_tracked }
    }

    /// Takes a turn at `now` from the bucket of every key in `keys`, or from none, saying
    /// how long until all of them hold one. Checked and taken under one lock.
    pub fn attempt(&self, keys: &[K], now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let full = TokenBucket::full(now);
        let wait = keys.iter().filter_map(|key| buckets.get(key).unwrap_or(&full).wait(1.0, key.rate(), now)).max();
        if let Some(wait) = wait {
            return Err(wait);
        }
        self.bound(&mut buckets, now);
        for key in keys {
            buckets.entry(key.clone()).or_insert(full).charge(1.0, key.rate(), now);
        }
        Ok(())
    }

    /// Gives the turn of `key` back (an attempt that turned out to be no guess).
    pub fn give_back(&self, key: &K, now: Instant) {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(bucket) = buckets.get_mut(key) {
            bucket.give_back(1.0, key.rate(), now);
        }
    }

    /// How many buckets are kept.
    pub fn tracked(&self) -> usize {
        self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }

    /// Forgets `key`'s bucket: it is full again.
    pub fn forget(&self, key: &K) {
        self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(key);
    }

    fn bound(&self, buckets: &mut HashMap<K, TokenBucket>, now: Instant) {
        if buckets.len() < self.max_tracked {
            return;
        }
        buckets.retain(|key, bucket| !bucket.is_full(key.rate(), now));
        if buckets.len() >= self.max_tracked {
            let mut fullest: Vec<(f64, K)> =
                buckets.iter().map(|(key, bucket)| (bucket.level(key.rate(), now) / key.rate().burst, key.clone())).collect();
            fullest.sort_by(|a, b| b.0.total_cmp(&a.0));
            let excess = buckets.len() - self.max_tracked / 2;
            for (_, key) in fullest.into_iter().take(excess) {
                buckets.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_A_SECOND: Rate = Rate { burst: 3.0, per_second: 2.0 };

    fn at(start: Instant, seconds: f64) -> Instant {
        start + Duration::from_secs_f64(seconds)
    }

    #[test]
    fn a_burst_then_the_steady_rate_and_never_past_the_burst() {
        let start = Instant::now();
        let mut bucket = TokenBucket::full(start);
        assert!((0..3).all(|_| bucket.take(1.0, TWO_A_SECOND, start).is_ok()));
        assert_eq!(bucket.take(1.0, TWO_A_SECOND, start), Err(Duration::from_millis(500)), "the burst is spent");
        assert!(bucket.take(1.0, TWO_A_SECOND, at(start, 0.5)).is_ok(), "one more after half a second at two a second");
        assert!(bucket.take(1.0, TWO_A_SECOND, at(start, 0.5)).is_err());
        assert!(bucket.is_full(TWO_A_SECOND, at(start, 60.0)));
        assert!((0..3).all(|_| bucket.take(1.0, TWO_A_SECOND, at(start, 60.0)).is_ok()), "earned back up to the burst only");
        assert!(bucket.take(1.0, TWO_A_SECOND, at(start, 60.0)).is_err());
    }

    #[test]
    fn a_refused_take_draws_nothing_and_given_back_turns_stop_at_the_burst() {
        let start = Instant::now();
        let mut bucket = TokenBucket::full(start);
        assert_eq!(bucket.take(4.0, TWO_A_SECOND, start), Err(Duration::from_millis(500)), "more than the burst waits for it");
        assert_eq!(bucket.level(TWO_A_SECOND, start), 3.0, "nothing was taken");
        bucket.take(2.0, TWO_A_SECOND, start).unwrap();
        bucket.give_back(5.0, TWO_A_SECOND, start);
        assert!(bucket.is_full(TWO_A_SECOND, start));
        assert_eq!(bucket.level(TWO_A_SECOND, start), 3.0);
    }

    #[test]
    fn a_charge_may_overdraw_and_is_earned_back_at_the_rate() {
        let start = Instant::now();
        let rate = Rate { burst: 10.0, per_second: 0.5 };
        let mut bucket = TokenBucket::full(start);
        bucket.charge(14.0, rate, start);
        assert_eq!(bucket.level(rate, start), -4.0);
        assert_eq!(bucket.wait(1.0, rate, start), Some(Duration::from_secs(10)));
        assert_eq!(bucket.level(rate, at(start, 8.0)), 0.0);
        assert!(!bucket.is_full(rate, at(start, 27.9)));
        assert!(bucket.is_full(rate, at(start, 28.0)));
    }

    #[test]
    fn a_new_rate_applies_to_what_was_drawn() {
        let start = Instant::now();
        let mut bucket = TokenBucket::full(start);
        bucket.charge(2.0, TWO_A_SECOND, start);
        let wider = Rate { burst: 30.0, per_second: 1.0 };
        assert_eq!(bucket.level(wider, start), 28.0, "what was drawn stays drawn");
        assert_eq!(bucket.level(wider, at(start, 1.0)), 29.0);
    }
}
