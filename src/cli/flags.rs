//! The ranges of the numeric flags, checked when the flags are parsed: a value outside its range
//! is a usage error that names the range (exit status 2), before any work or allocation. Each
//! flag's `--help` text states the same range (`tests/cli_hostile.rs` checks they agree).

/// A whole-number flag taking `min..=max`.
#[derive(Clone, Copy, Debug)]
pub struct Count {
    pub min: usize,
    pub max: usize,
}

/// Images per batch for the commands that make their own input (`run`, `bench`, `tune`, `plan`,
/// `soak`): 4096 synthetic images are 2.4 GB of host memory.
pub const BATCH: Count = Count { min: 1, max: 4096 };
/// Images per GPU run of `classify`: two batches of decoded images are in memory at once
/// (154 MB each at 256).
pub const CLASSIFY_BATCH: Count = Count { min: 1, max: 256 };
/// Classes shown per image (a model with fewer classes shows them all).
pub const TOP: Count = Count { min: 1, max: 1000 };
/// Timed runs of `bench`.
pub const BENCH_ITERS: Count = Count { min: 1, max: 10_000 };
/// Timed runs of the CPU reference in `bench` (0 skips it; each takes seconds).
pub const CPU_ITERS: Count = Count { min: 0, max: 100 };
/// Timed runs per variant in `tune` (each variant of each conv is timed this often).
pub const TUNE_ITERS: Count = Count { min: 1, max: 100 };
/// Threads sharing one session in `soak` (past the session's context cap they take turns).
pub const THREADS: Count = Count { min: 1, max: 64 };
/// Minutes of `soak`: from 3 seconds (enough for its ten samples) to a day.
pub const MINUTES: Decimal = Decimal { min: 0.05, max: 1440.0 };

impl Count {
    /// The clap value parser for this range.
    pub fn parser(self) -> impl Fn(&str) -> Result<usize, String> + Clone + Send + Sync + 'static {
        move |text| {
            let out_of_range = || format!("give a whole number from {} to {}", self.min, self.max);
            let value: u128 = text.parse().map_err(|_| out_of_range())?;
            usize::try_from(value).ok().filter(|v| (self.min..=self.max).contains(v)).ok_or_else(out_of_range)
        }
    }
}

/// A decimal flag taking `min..=max` (never NaN or infinite).
#[derive(Clone, Copy, Debug)]
pub struct Decimal {
    pub min: f64,
    pub max: f64,
}

impl Decimal {
    /// The clap value parser for this range.
    pub fn parser(self) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync + 'static {
        move |text| {
            let out_of_range = || format!("give a number from {} to {}", self.min, self.max);
            let value: f64 = text.parse().map_err(|_| out_of_range())?;
            Some(value).filter(|v| (self.min..=self.max).contains(v)).ok_or_else(out_of_range)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_outside_the_range_are_refused() {
        let batch = BATCH.parser();
        assert_eq!(batch("1"), Ok(1));
        assert_eq!(batch("4096"), Ok(4096));
        for bad in ["0", "4097", "-1", "1e3", "18446744073709551615", "99999999999999999999999999999999999999999", "", "x"] {
            assert_eq!(batch(bad), Err("give a whole number from 1 to 4096".into()), "{bad:?}");
        }
        let minutes = MINUTES.parser();
        assert_eq!(minutes("0.2"), Ok(0.2));
        for bad in ["0", "-1", "nan", "NaN", "inf", "-inf", "1e300", "0.01", "1441"] {
            assert!(minutes(bad).is_err(), "{bad:?}");
        }
    }
}
