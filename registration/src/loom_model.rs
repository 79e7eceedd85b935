//! [`model`]: running a loom model and proving it reached its races. Built
//! only under `--cfg loom`, for the loom tests of all three crates.
//!
//! loom 0.7 leaves some interleavings unexplored (tokio-rs/loom#392: a
//! spawned thread whose first access to an object is a load is never run
//! before the main thread's first access to it). A model that passes
//! without reaching its race proves nothing, so each model names the
//! orders it is about, reports each one it takes, and fails if some run of
//! loom never took one of them.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// The orders a model took, across all of loom's runs of it. Plain std
/// types: this is bookkeeping outside the model, never a scheduling point.
#[derive(Debug, Default)]
pub struct Explored {
    /// The name of every order some run reported.
    seen: Mutex<BTreeSet<&'static str>>,
}

impl Explored {
    /// Records that this run took the order `name`.
    pub fn saw(&self, name: &'static str) {
        self.seen.lock().unwrap().insert(name);
    }

    /// Fails unless every order in `expected` was reported by some run.
    pub fn assert_saw(&self, expected: &[&'static str]) {
        let seen = self.seen.lock().unwrap();
        let missed: Vec<_> = expected
            .iter()
            .filter(|name| !seen.contains(*name))
            .collect();
        assert!(
            missed.is_empty(),
            "loom never explored {missed:?} (it did explore {seen:?})"
        );
    }
}

/// Runs `f` under loom, reporting orders to `explored` (for a model run in
/// several variants whose orders add up). Unbounded exploration of the
/// larger models takes minutes, so when `LOOM_MAX_PREEMPTIONS` is unset
/// the bound defaults to 3 (CI uses 2); set the variable to explore
/// further.
pub fn model_into(explored: &Arc<Explored>, f: impl Fn(&Explored) + Sync + Send + 'static) {
    let mut builder = ::loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    let during = explored.clone();
    builder.check(move || f(&during));
}

/// [`model_into`] a fresh [`Explored`], then [`Explored::assert_saw`].
pub fn model(expected: &[&'static str], f: impl Fn(&Explored) + Sync + Send + 'static) {
    let explored = Arc::default();
    model_into(&explored, f);
    explored.assert_saw(expected);
}
