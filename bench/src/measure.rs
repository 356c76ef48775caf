//! Interleaved timing: every implementation of a benchmark is sampled once per
//! round (A B C, A B C, ...), so drift in machine load hits all of them alike,
//! and the median over rounds is reported.
//!
//! Each round also gives a ratio of ours (the first implementation) to each peer. How
//! much that ratio moves from round to round is the benchmark's own spread: rounds are
//! added (up to [`Budget::max_rounds`]) while it is above [`SPREAD_GOAL`], and the report
//! counts a target as decided only when its margin is wider than both the run's noise
//! floor and the row's spread.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// How long each sample should take, and how many rounds to run.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Target duration of one sample (many iterations of the operation).
    pub sample: Duration,
    /// Number of samples per implementation.
    pub rounds: usize,
    /// The most samples per implementation, added one round at a time while a ratio's
    /// spread is above [`SPREAD_GOAL`] (`rounds` for none).
    pub max_rounds: usize,
}

impl Budget {
    /// The `--quick` budget: enough for a stable ratio, small enough for CI-sized machines.
    pub const QUICK: Self = Self {
        sample: Duration::from_millis(25),
        rounds: 5,
        max_rounds: 15,
    };
    /// The default budget.
    pub const FULL: Self = Self {
        sample: Duration::from_millis(100),
        rounds: 15,
        max_rounds: 45,
    };
}

/// The round-to-round spread of a ratio that needs no more rounds: 1%.
pub const SPREAD_GOAL: f64 = 0.01;

/// The medians of one interleaved measurement (seconds per operation, one per
/// implementation, in the order given; `None` for one that did not run), and the spread of
/// ours against each other.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    medians: Vec<Option<f64>>,
    /// For each implementation, the spread of ours / it over the rounds ([`spread`]);
    /// `None` for ours itself and for one that did not run.
    pub spread: Vec<Option<f64>>,
}

impl Timings {
    /// From each implementation's samples (`ran` says which ran).
    fn from_samples(samples: &mut [Vec<f64>], ran: &[bool]) -> Timings {
        let spread = spreads(samples, ran);
        let medians = samples
            .iter_mut()
            .zip(ran)
            .map(|(s, &ran)| ran.then(|| median(s)))
            .collect();
        Timings { medians, spread }
    }

    /// The spread of ours against implementation `i` (1 is libbpf, 2 is aya).
    pub fn spread_vs(&self, i: usize) -> Option<f64> {
        self.spread.get(i).copied().flatten()
    }
}

/// For each implementation, the spread of ours / it over the paired rounds of `samples`
/// (`None` for ours itself and for one that did not run).
fn spreads(samples: &[Vec<f64>], ran: &[bool]) -> Vec<Option<f64>> {
    (0..samples.len())
        .map(|i| {
            (i > 0 && ran[0] && ran[i])
                .then(|| spread(&samples[0], &samples[i]))
                .flatten()
        })
        .collect()
}

/// Whether to run another round after `done`: always up to the budget's rounds, then while
/// a spread is above [`SPREAD_GOAL`], up to its `max_rounds`.
fn more_rounds(done: usize, samples: &[Vec<f64>], ran: &[bool], budget: Budget) -> bool {
    done < budget.rounds
        || (done < budget.max_rounds
            && spreads(samples, ran)
                .into_iter()
                .flatten()
                .any(|s| s > SPREAD_GOAL))
}

impl std::ops::Deref for Timings {
    type Target = [Option<f64>];

    fn deref(&self) -> &[Option<f64>] {
        &self.medians
    }
}

/// The spread of the ratio `a[k] / b[k]` over paired rounds `k`: half its interquartile
/// range, relative to its median (`None` with fewer than three rounds).
pub fn spread(a: &[f64], b: &[f64]) -> Option<f64> {
    let mut ratios: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y).collect();
    let n = ratios.len();
    if n < 3 {
        return None;
    }
    ratios.sort_by(f64::total_cmp);
    // The quartiles by rank, rounded outwards: with five rounds, the second and fourth.
    let (q1, q3) = (ratios[(n - 1) / 4], ratios[(3 * (n - 1)).div_ceil(4)]);
    let mid = median(&mut ratios);
    (mid > 0.0).then(|| (q3 - q1) / 2.0 / mid)
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
/// operation for each, in the order given. `None` entries are skipped. Runs the budget's
/// rounds, then more, one at a time, while a spread is above [`SPREAD_GOAL`].
pub fn interleaved(ops: &mut [Option<Op<'_>>], budget: Budget) -> Timings {
    let iters: Vec<u64> = ops
        .iter_mut()
        .map(|op| op.as_mut().map_or(0, |op| calibrate(op, budget.sample)))
        .collect();
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(budget.max_rounds); ops.len()];
    let ran: Vec<bool> = ops.iter().map(Option::is_some).collect();
    let mut done = 0;
    while more_rounds(done, &samples, &ran, budget) {
        done += 1;
        for (i, op) in ops.iter_mut().enumerate() {
            let Some(op) = op else { continue };
            let start = Instant::now();
            for _ in 0..iters[i] {
                op();
            }
            samples[i].push(black_box(start.elapsed()).as_secs_f64() / iters[i] as f64);
        }
    }
    Timings::from_samples(&mut samples, &ran)
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
/// run first and discarded), with more rounds while a spread is above [`SPREAD_GOAL`]
/// (the budget's sample length is not used: one call is one sample).
pub fn interleaved_with_setup(ops: &mut [Option<Prepared<'_>>], budget: Budget) -> Timings {
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(budget.max_rounds); ops.len()];
    let ran: Vec<bool> = ops.iter().map(Option::is_some).collect();
    // One round: each implementation's time, setup untimed.
    let mut round = || -> Vec<Option<f64>> {
        ops.iter_mut()
            .map(|p| {
                let p = p.as_mut()?;
                (p.setup)();
                let start = Instant::now();
                (p.op)();
                Some(black_box(start.elapsed()).as_secs_f64())
            })
            .collect()
    };
    // The first round warms up and is not kept.
    round();
    let mut done = 0;
    while more_rounds(done, &samples, &ran, budget) {
        done += 1;
        for (s, took) in samples.iter_mut().zip(round()) {
            s.extend(took);
        }
    }
    Timings::from_samples(&mut samples, &ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_half_the_interquartile_range_of_the_paired_ratios() {
        // Ratios 0.9, 1.0, 1.0, 1.0, 1.2: quartiles 1.0 and 1.0.
        let ours = [0.9, 1.0, 2.0, 3.0, 1.2];
        let theirs = [1.0, 1.0, 2.0, 3.0, 1.0];
        assert_eq!(spread(&ours, &theirs), Some(0.0));
        // Ratios 0.8, 0.9, 1.0, 1.1, 1.2: quartiles 0.9 and 1.1, median 1.0.
        let ours = [1.2, 0.8, 1.1, 0.9, 1.0];
        let s = spread(&ours, &[1.0; 5]).unwrap_or(f64::NAN);
        assert!((s - 0.1).abs() < 1e-9, "{s}");
        // Too few rounds to say.
        assert_eq!(spread(&[1.0, 2.0], &[1.0, 1.0]), None);
    }

    #[test]
    fn rounds_are_added_while_a_spread_is_wide_up_to_the_most() {
        let budget = Budget {
            sample: Duration::from_micros(200),
            rounds: 3,
            max_rounds: 9,
        };
        let ran = [true, true, false];
        // Ratios 1.0 in every round: settled once the budget's rounds are done.
        let steady = vec![vec![2.0; 3], vec![2.0; 3], vec![]];
        assert!(more_rounds(2, &steady, &ran, budget));
        assert!(!more_rounds(3, &steady, &ran, budget));
        // Ratios 0.5, 1.0, 2.0: a spread far above 1%, so more, until the most.
        let wide = vec![vec![1.0, 2.0, 4.0], vec![2.0; 3], vec![]];
        assert!(more_rounds(3, &wide, &ran, budget));
        assert!(!more_rounds(9, &wide, &ran, budget));
        // Only ours ran: no spread to wait for.
        assert!(!more_rounds(3, &wide, &[true, false, false], budget));
    }

    #[test]
    fn interleaved_gives_a_median_per_implementation_and_spreads_against_ours() {
        let work = || {
            black_box((0..2000u64).fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(b)));
        };
        let mut ops: Vec<Option<Op<'_>>> = vec![Some(Box::new(work)), Some(Box::new(work)), None];
        let budget = Budget {
            sample: Duration::from_micros(200),
            rounds: 3,
            max_rounds: 9,
        };
        let t = interleaved(&mut ops, budget);
        assert!(t[0].is_some() && t[1].is_some() && t[2].is_none());
        assert!(t.spread_vs(1).is_some());
        assert_eq!(t.spread_vs(2), None);
        assert_eq!(t.spread_vs(0), None);
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
