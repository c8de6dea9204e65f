//! Progress of long work on stderr: a bar with the rate and ETA on a terminal, a plain line every
//! few seconds otherwise (logs, CI), so that stdout stays clean for results.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How often the plain (non-terminal) form reports.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

pub struct Progress {
    what: &'static str,
    total: u64,
    done: u64,
    started: Instant,
    form: Form,
}

enum Form {
    Bar(indicatif::ProgressBar),
    Plain { last: Instant },
}

impl Progress {
    /// Progress over `total` items of `what` (a plural noun: "images").
    pub fn new(what: &'static str, total: u64) -> Self {
        let form = if std::io::stderr().is_terminal() {
            let style = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} [{elapsed_precise}, ETA {eta}]")
                .expect("the template is valid");
            Form::Bar(indicatif::ProgressBar::new(total).with_style(style))
        } else {
            Form::Plain { last: Instant::now() }
        };
        Progress { what, total, done: 0, started: Instant::now(), form }
    }

    /// Items per second so far.
    pub fn rate(&self) -> f64 {
        self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-9)
    }

    pub fn advance(&mut self, items: u64) {
        self.done += items;
        let rate = self.rate();
        match &mut self.form {
            Form::Bar(bar) => {
                bar.set_message(format!("{rate:.2} {}/s", self.what));
                bar.set_position(self.done);
            }
            Form::Plain { last } if last.elapsed() >= PLAIN_EVERY || self.done == self.total => {
                *last = Instant::now();
                let eta = (self.total - self.done) as f64 / rate.max(1e-9);
                eprintln!("{}/{} {}, {rate:.2} {}/s, ETA {eta:.0} s", self.done, self.total, self.what, self.what);
            }
            Form::Plain { .. } => {}
        }
    }

    /// Runs `f` (which prints) with the bar out of the way.
    pub fn suspend<T>(&self, f: impl FnOnce() -> T) -> T {
        match &self.form {
            Form::Bar(bar) => bar.suspend(f),
            Form::Plain { .. } => f(),
        }
    }

    /// Removes the bar (the plain form has nothing to remove).
    pub fn finish(&self) {
        if let Form::Bar(bar) = &self.form {
            bar.finish_and_clear();
        }
    }
}
