//! Interleaved timing: every implementation of a benchmark is sampled once per
//! round (A B C, A B C, ...), so drift in machine load hits all of them alike,
//! and the median over rounds is reported.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// How long each sample should take, and how many rounds to run.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Target duration of one sample (many iterations of the operation).
    pub sample: Duration,
    /// Number of samples per implementation.
    pub rounds: usize,
}

impl Budget {
    /// The `--quick` budget: enough for a stable ratio, small enough for CI-sized machines.
    pub const QUICK: Self = Self {
        sample: Duration::from_millis(25),
        rounds: 5,
    };
    /// The default budget.
    pub const FULL: Self = Self {
        sample: Duration::from_millis(100),
        rounds: 15,
    };
}

/// One operation to time: runs the operation once per call.
pub type Op<'a> = Box<dyn FnMut() + 'a>;

/// Finds the number of iterations that makes one sample last about `target`.
fn calibrate(op: &mut Op<'_>, target: Duration) -> u64 {
    let mut iters: u64 = 1;
    loop {
        let start = Instant::now();
        for _ in 0..iters {
            op();
        }
        let took = start.elapsed();
        if took >= target / 4 || iters >= 1 << 30 {
            let per = took.as_secs_f64() / iters as f64;
            return ((target.as_secs_f64() / per.max(1e-12)) as u64).clamp(1, 1 << 30);
        }
        iters *= 4;
    }
}

/// The median over `values`.
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Times each operation, interleaved, and returns the median seconds per
/// operation for each, in the order given. `None` entries are skipped.
pub fn interleaved(ops: &mut [Option<Op<'_>>], budget: Budget) -> Vec<Option<f64>> {
    let iters: Vec<u64> = ops
        .iter_mut()
        .map(|op| op.as_mut().map_or(0, |op| calibrate(op, budget.sample)))
        .collect();
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(budget.rounds); ops.len()];
    for _ in 0..budget.rounds {
        for (i, op) in ops.iter_mut().enumerate() {
            let Some(op) = op else { continue };
            let start = Instant::now();
            for _ in 0..iters[i] {
                op();
            }
            samples[i].push(black_box(start.elapsed()).as_secs_f64() / iters[i] as f64);
        }
    }
    samples
        .into_iter()
        .zip(ops.iter())
        .map(|(mut s, op)| op.as_ref().map(|_| median(&mut s)))
        .collect()
}

/// Untimed preparation run before each sample of an [`Op`] (e.g. refilling a ring).
pub type Setup<'a> = Box<dyn FnMut() + 'a>;

/// One sample of an operation that must be prepared before each run: `setup`
/// runs untimed, then `op` runs once, timed.
pub struct Prepared<'a> {
    /// Runs before every sample, outside the timed region.
    pub setup: Setup<'a>,
    /// The timed operation.
    pub op: Op<'a>,
}

impl std::fmt::Debug for Prepared<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Prepared")
    }
}

/// Like [`interleaved`] for operations that consume their input: each round
/// runs every implementation's `setup` untimed, then its `op` once, timed.
/// Returns the median seconds per `op` call for each (one warm-up round is
/// run first and discarded).
pub fn interleaved_with_setup(ops: &mut [Option<Prepared<'_>>], rounds: usize) -> Vec<Option<f64>> {
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); ops.len()];
    for round in 0..=rounds {
        for (i, p) in ops.iter_mut().enumerate() {
            let Some(p) = p else { continue };
            (p.setup)();
            let start = Instant::now();
            (p.op)();
            let took = black_box(start.elapsed()).as_secs_f64();
            if round > 0 {
                samples[i].push(took);
            }
        }
    }
    samples
        .into_iter()
        .zip(ops.iter())
        .map(|(mut s, op)| op.as_ref().map(|_| median(&mut s)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
