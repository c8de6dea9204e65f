//! Results on stdout. A write that fails (stdout on a full disk) is an error naming stdout, not a
//! panic as `println!` gives; a reader that went away (`googlenet ... | head`) ends the process
//! quietly through SIGPIPE (see `main`).

use std::io::Write;

use googlenet::{Error, Result};

/// The text a command prints, gathered line by line and written in one go.
#[derive(Default)]
pub struct Text(String);

impl Text {
    /// Adds `line` and a newline.
    pub fn line(&mut self, line: impl std::fmt::Display) {
        use std::fmt::Write as _;
        writeln!(self.0, "{line}").expect("formatting into a String cannot fail");
    }

    /// Writes the text to stdout.
    pub fn print(self) -> Result<()> {
        print(&self.0)
    }
}

/// Writes `text` to stdout and flushes it.
pub fn print(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).map_err(|e| Error::file("stdout", format!("cannot write the results: {e}")))
}

/// A `--json` report, pretty-printed on stdout.
pub fn print_json(report: &serde_json::Value) -> Result<()> {
    print(&format!("{report:#}\n"))
}
