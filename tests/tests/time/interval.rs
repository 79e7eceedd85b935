//! `interval` and `interval_at`: the schedule, the missed-tick behaviours,
//! `reset`, and ticks dropped at random points.

use std::time::{Duration, Instant};

use eddy::time::{MissedTickBehavior, interval, interval_at};
use eddy_tests::with_deadline;

use crate::ms;

#[test]
fn interval_ticks_on_its_schedule() {
    eddy::run(async {
        let period = ms(10);
        let start = Instant::now();
        let mut every = interval_at(start, period);
        assert_eq!(every.period(), period);
        assert_eq!(every.missed_tick_behavior(), MissedTickBehavior::Burst);
        for n in 0..4 {
            assert_eq!(every.tick().await, start + period * n);
            assert!(Instant::now() >= start + period * n);
        }
    });
}

#[test]
fn interval_first_tick_is_immediate() {
    // Bounded: a first tick one period late would otherwise hang the test
    // binary for the hour.
    with_deadline(Duration::from_secs(30), || {
        eddy::run(async {
            let before = Instant::now();
            let first = interval(Duration::from_secs(3600)).tick().await;
            assert!(first >= before);
        })
    });
}

#[test]
fn interval_burst_catches_up_on_missed_ticks() {
    eddy::run(async {
        let period = ms(10);
        let start = Instant::now();
        let mut every = interval_at(start, period);
        every.tick().await;
        std::thread::sleep(ms(35)); // block the runtime: ticks 10, 20, 30 are missed
        for n in 1..=4 {
            assert_eq!(every.tick().await, start + period * n);
        }
    });
}

#[test]
fn interval_delay_restarts_one_period_after_a_late_tick() {
    eddy::run(async {
        let period = ms(10);
        let start = Instant::now();
        let mut every = interval_at(start, period);
        every.set_missed_tick_behavior(MissedTickBehavior::Delay);
        every.tick().await;
        std::thread::sleep(ms(35));
        let woke = Instant::now();
        assert_eq!(every.tick().await, start + period);
        let next = every.tick().await;
        assert!(
            next >= woke + period,
            "Delay keeps a full period after the late tick"
        );
    });
}

#[test]
fn interval_skip_resumes_on_the_original_grid() {
    eddy::run(async {
        let period = ms(10);
        let start = Instant::now();
        let mut every = interval_at(start, period);
        every.set_missed_tick_behavior(MissedTickBehavior::Skip);
        every.tick().await;
        std::thread::sleep(ms(35));
        assert_eq!(every.tick().await, start + period);
        let next = every.tick().await;
        assert!(next >= start + period * 4, "ticks 20 and 30 are skipped");
        assert_eq!(
            (next - start).as_nanos() % period.as_nanos(),
            0,
            "on the grid"
        );
    });
}

#[test]
fn interval_reset_pushes_the_next_tick_a_period_away() {
    eddy::run(async {
        let period = ms(20);
        let mut every = interval(period);
        every.tick().await;
        let before_reset = Instant::now();
        every.reset();
        let next = every.tick().await;
        assert!(next >= before_reset + period);
        assert!(Instant::now() >= before_reset + period);
    });
}

#[test]
#[should_panic(expected = "must be non-zero")]
fn interval_with_a_zero_period_is_refused() {
    let _ = interval(Duration::ZERO);
}

#[test]
fn interval_ticks_dropped_at_random_points_skip_no_tick() {
    // With `Burst`, the ticks an interval returns are its schedule, one
    // period apart, however late they are observed: a tick future dropped
    // after taking a tick would show as a gap.
    for seed in [0x9E37_79B9_u64, 0xC0FF_EE11, 0x5EED_0003] {
        with_deadline(Duration::from_secs(30), move || {
            eddy::run(async move {
                let mut rng = eddy_tests::XorShift(seed);
                let period = ms(1);
                let start = Instant::now();
                let mut every = interval_at(start, period);
                let mut next = 0u32;
                let mut dropped = 0;
                while next < 200 {
                    match eddy_tests::cancel_at_random(&mut rng, every.tick()).await {
                        Some(tick) => {
                            assert_eq!(
                                tick,
                                start + period * next,
                                "seed {seed:#x}: tick {next} skipped or repeated"
                            );
                            next += 1;
                        }
                        None => dropped += 1,
                    }
                }
                assert!(dropped > 0, "seed {seed:#x}: no tick was ever dropped");
            })
        });
    }
}
