//! A randomized model test: [`Timers`] must behave exactly like a plain
//! ordered map under tens of thousands of random operations.
//!
//! The reference is the B-tree store eddy used before the wheel, with the
//! wheel's one documented difference applied: a drain at `now` fires what
//! is due by the start of `now`'s millisecond. Both see the same inserts,
//! cancels, reschedules, waker updates (live and stale keys alike) and
//! drains at advancing times, from sub-millisecond steps to jumps of years
//! (so every level cascades and the overflow list turns over), with
//! deadlines in the past, in the same millisecond, on a tick boundary or a
//! nanosecond either side of one, and decades ahead; timers pushed back
//! and pulled in by a little, several times in a row (a later reset stays
//! in its old slot, an earlier one may not need to move); and drains
//! exactly on a tick boundary or a nanosecond before one.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::task::{Wake, Waker};
use std::time::{Duration, Instant};

use super::Clock;
use crate::test_rng::Rng;
use crate::time::timer_key::TimerKey;
use crate::time::timers::Timers;

/// Wakes by appending its label to a shared log.
struct Recorder {
    /// Which timer (and which waker update of it) this is.
    label: u64,
    /// Wake-ups, in the order they happened.
    log: Arc<Mutex<Vec<u64>>>,
}

impl Wake for Recorder {
    fn wake(self: Arc<Self>) {
        self.log.lock().unwrap().push(self.label);
    }
}

/// The reference store: `(deadline, insertion counter)` -> label.
#[derive(Default)]
struct Model {
    /// Pending timers in firing order.
    map: BTreeMap<(Instant, u64), u64>,
    /// Next insertion counter.
    next_seq: u64,
}

/// One timer as the test knows it: its key in each store. Kept after the
/// timer fires or is cancelled, to exercise stale keys.
#[derive(Clone, Copy)]
struct Handle {
    /// Key in the wheel.
    wheel: TimerKey,
    /// Key in the model.
    model: (Instant, u64),
}

/// A deadline somewhere around `now`: in the past, within the same
/// millisecond, soon, later, beyond the wheel's two-year span, or decades
/// out (what `sleep(Duration::MAX)` asks for), or on a tick boundary.
fn random_deadline(rng: &mut Rng, clock: &Clock, now: Instant) -> Instant {
    let ahead = |d: Duration| now + d;
    match rng.below(10) {
        0 => now
            .checked_sub(Duration::from_millis(rng.below(5_000)))
            .unwrap_or(now),
        1 => ahead(Duration::from_nanos(rng.below(3_000_000))),
        2 => ahead(Duration::from_millis(rng.below(200))),
        3 => ahead(Duration::from_micros(rng.below(100_000_000))),
        4 => ahead(Duration::from_millis(rng.below(20_000_000))),
        5 => ahead(Duration::from_millis(rng.below(4 * 365 * 24 * 3600 * 1000))),
        6 => ahead(Duration::from_secs(30 * 365 * 24 * 3600)),
        // On a tick boundary, or a nanosecond either side of one.
        7 => {
            let boundary = clock.instant_at(clock.now_tick(now) + rng.below(150));
            match rng.below(3) {
                0 => boundary,
                1 => boundary + Duration::from_nanos(1),
                _ => boundary - Duration::from_nanos(1),
            }
        }
        8 => ahead(Duration::from_nanos(rng.below(1_000_000))),
        _ => now,
    }
}

/// A deadline a little after `deadline` (an idle timeout pushed back), or
/// a little before it, often within the same millisecond or on the next
/// tick boundary.
fn nudged_deadline(rng: &mut Rng, deadline: Instant) -> Instant {
    let by = match rng.below(4) {
        0 => Duration::from_nanos(rng.below(1_000_000)),
        1 => Duration::from_millis(1 + rng.below(3)),
        2 => Duration::from_millis(rng.below(300)),
        _ => Duration::from_millis(rng.below(100_000)),
    };
    if rng.below(3) == 0 {
        deadline.checked_sub(by).unwrap_or(deadline)
    } else {
        deadline + by
    }
}

/// How far the clock moves before a drain.
fn random_step(rng: &mut Rng) -> Duration {
    match rng.below(10) {
        0..=3 => Duration::from_nanos(rng.below(2_000_000)),
        4..=6 => Duration::from_millis(rng.below(300)),
        7 => Duration::from_millis(rng.below(10_000_000)),
        8 => Duration::from_millis(rng.below(3 * 365 * 24 * 3600 * 1000)),
        _ => Duration::ZERO,
    }
}

fn run(seed: u64, ops: usize) {
    let mut rng = Rng::new(seed);
    let start = Instant::now();
    let clock = Clock::new(start);
    let mut timers = Timers::starting_at(start);
    let mut model = Model::default();
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut handles: Vec<Handle> = Vec::new();
    let mut next_label = 0u64;
    let mut label_waker = |log: &Arc<Mutex<Vec<u64>>>| {
        next_label += 1;
        let waker = Waker::from(Arc::new(Recorder {
            label: next_label,
            log: Arc::clone(log),
        }));
        (next_label, waker)
    };
    let mut now = start;
    // The `now` of the last drain: a timer due by then is reported as due.
    let mut drained_at = start;
    let mut fired_total = 0usize;

    for _ in 0..ops {
        let pick =
            |rng: &mut Rng, handles: &[Handle]| handles[rng.below(handles.len() as u64) as usize];
        match rng.below(23) {
            0..=6 => {
                let deadline = random_deadline(&mut rng, &clock, now);
                let (label, waker) = label_waker(&log);
                let wheel = timers.insert(deadline, waker);
                let key = (deadline, model.next_seq);
                model.next_seq += 1;
                model.map.insert(key, label);
                handles.push(Handle { wheel, model: key });
            }
            7..=9 if !handles.is_empty() => {
                let handle = pick(&mut rng, &handles);
                timers.cancel(handle.wheel);
                model.map.remove(&handle.model);
            }
            10..=11 if !handles.is_empty() => {
                let handle = pick(&mut rng, &handles);
                let deadline = random_deadline(&mut rng, &clock, now);
                let moved = timers.reschedule(handle.wheel, deadline);
                match model.map.remove(&handle.model) {
                    Some(label) => {
                        let wheel = moved.expect("a live timer must reschedule");
                        let key = (deadline, model.next_seq);
                        model.next_seq += 1;
                        model.map.insert(key, label);
                        // The old handle stays behind, now stale.
                        handles.push(Handle { wheel, model: key });
                    }
                    None => assert_eq!(moved, None, "a stale key rescheduled something"),
                }
            }
            12..=13 if !handles.is_empty() => {
                let handle = pick(&mut rng, &handles);
                let (label, waker) = label_waker(&log);
                let updated = timers.replace_waker(handle.wheel, waker).is_ok();
                match model.map.get_mut(&handle.model) {
                    Some(stored) => {
                        assert!(updated, "a live key failed to update");
                        *stored = label;
                    }
                    None => assert!(!updated, "a stale key updated something"),
                }
            }
            14..=16 => {
                now += random_step(&mut rng);
                fired_total += drain_both(&mut timers, &mut model, &clock, &log, now);
                drained_at = now;
            }
            17 => {
                // What the runtime does: park until next_deadline, drain.
                if let Some(next) = timers.next_deadline() {
                    now = now.max(next);
                }
                fired_total += drain_both(&mut timers, &mut model, &clock, &log, now);
                drained_at = now;
            }
            18..=20 if !handles.is_empty() => {
                // Pushed back or pulled in a little from where it is now,
                // often several times in a row (later, then earlier).
                let handle = pick(&mut rng, &handles);
                let mut current = handle;
                for _ in 0..=rng.below(3) {
                    let deadline = nudged_deadline(&mut rng, current.model.0);
                    let moved = timers.reschedule(current.wheel, deadline);
                    match model.map.remove(&current.model) {
                        Some(label) => {
                            let wheel = moved.expect("a live timer must reschedule");
                            let key = (deadline, model.next_seq);
                            model.next_seq += 1;
                            model.map.insert(key, label);
                            current = Handle { wheel, model: key };
                            handles.push(current);
                        }
                        None => {
                            assert_eq!(moved, None, "a stale key rescheduled something");
                            break;
                        }
                    }
                }
            }
            21 => {
                // A drain exactly on a tick boundary, or a nanosecond
                // before one.
                let tick = clock.now_tick(now) + rng.below(130);
                let boundary = clock.instant_at(tick);
                let at = if rng.below(2) == 0 {
                    boundary
                } else {
                    boundary - Duration::from_nanos(1)
                };
                now = now.max(at);
                fired_total += drain_both(&mut timers, &mut model, &clock, &log, now);
                drained_at = now;
            }
            _ => {}
        }
        check_agreement(&timers, &model, &clock, drained_at);
        if handles.len() > 4_000 {
            // Keep the handle pool (and the stale-key mix) bounded.
            handles.drain(..2_000);
        }
    }
    assert!(
        fired_total > ops / 20,
        "the run fired too little to prove much"
    );

    // Everything left fires once the clock passes the last deadline.
    now += Duration::from_secs(40 * 365 * 24 * 3600);
    while !model.map.is_empty() {
        let next = timers
            .next_deadline()
            .expect("pending timers need a wake-up");
        assert!(next <= now);
        drain_both(&mut timers, &mut model, &clock, &log, next);
    }
    assert!(timers.is_empty());
    assert_eq!(timers.next_deadline(), None);
}

/// Drains both stores at `now`; asserts they fired the same timers in the
/// same order, none early, and that the wheel will not spin. Returns how
/// many fired.
fn drain_both(
    timers: &mut Timers,
    model: &mut Model,
    clock: &Clock,
    log: &Arc<Mutex<Vec<u64>>>,
    now: Instant,
) -> usize {
    let mut out = Vec::new();
    let count = timers.drain_expired(now, &mut out);
    assert_eq!(count, out.len());
    out.into_iter().for_each(Waker::wake);
    let fired = std::mem::take(&mut *log.lock().unwrap());

    let cutoff = clock.instant_at(clock.now_tick(now));
    let mut expected = Vec::new();
    while let Some(entry) = model.map.first_entry() {
        if entry.key().0 > cutoff {
            break;
        }
        assert!(entry.key().0 <= now, "the model fires early");
        expected.push(entry.remove());
    }
    assert_eq!(fired, expected, "fired sets or order differ at {now:?}");
    // Right after a drain nothing is due, so the runtime parks until a
    // moment after `now`, or it would spin.
    if let Some(next) = timers.next_deadline() {
        assert!(
            next > now,
            "next_deadline {next:?} is not after the drain at {now:?}"
        );
    }
    fired.len()
}

/// Same count; the wheel's wake-up is never later than the earliest timer
/// becomes due (or than the last drain, for a timer inserted already due).
fn check_agreement(timers: &Timers, model: &Model, clock: &Clock, drained_at: Instant) {
    assert_eq!(timers.len(), model.map.len());
    assert_eq!(timers.is_empty(), model.map.is_empty());
    match model.map.first_key_value() {
        None => assert_eq!(timers.next_deadline(), None),
        Some((&(deadline, _), _)) => {
            let due = clock.instant_at(clock.deadline_tick(deadline));
            let next = timers
                .next_deadline()
                .expect("pending timers need a wake-up");
            assert!(
                next <= due.max(drained_at),
                "next_deadline {next:?} is after the earliest timer is due ({due:?})"
            );
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri: too slow interpreted (safe code at scale)")]
fn random_operations_match_an_ordered_map() {
    for seed in [0x9e37_79b9_7f4a_7c15, 1, 0xdead_beef, 42] {
        run(seed, 25_000);
    }
}
