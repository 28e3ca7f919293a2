//! The binary's progress display: bars on a terminal, log lines elsewhere (CI, Airflow).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use atl_ingest::{IngestError, Outcome, Progress};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::{describe, human_size};

/// Progress bars on a terminal: one per file being downloaded.
#[derive(Debug)]
pub(crate) struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Bars {
    pub(crate) fn new(multi: MultiProgress) -> Bars {
        Bars { multi, bars: Mutex::default() }
    }

    fn bar(&self, label: &str) -> ProgressBar {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        bars.entry(label.to_owned())
            .or_insert_with(|| {
                let bar = self.multi.add(ProgressBar::no_length());
                bar.set_prefix(label.to_owned());
                bar
            })
            .clone()
    }
}

impl Progress for Bars {
    fn download_started(&self, label: &str, total: Option<u64>) {
        let bar = self.bar(label);
        let style = match total {
            Some(total) => {
                bar.set_length(total);
                ProgressStyle::with_template(
                    "{prefix:16} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
                )
            }
            None => ProgressStyle::with_template("{prefix:16} {spinner} {bytes} {bytes_per_sec} {msg}"),
        };
        if let Ok(style) = style {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_position(0);
        bar.enable_steady_tick(Duration::from_millis(200));
    }

    fn downloaded(&self, label: &str, bytes: u64) {
        self.bar(label).inc(bytes);
    }

    fn retrying(&self, label: &str, attempt: u32, error: &IngestError, delay: Duration) {
        self.bar(label).set_message(format!("attempt {attempt} failed ({error}); retrying in {delay:?}"));
    }

    fn committing(&self, label: &str) {
        self.bar(label).set_message("writing to the lake");
    }

    fn finished(&self, label: &str, outcome: &Outcome) {
        let bar = self.bars.lock().unwrap_or_else(|e| e.into_inner()).remove(label);
        if let Some(bar) = bar {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        let _ = self.multi.println(format!("{label:<16} {}", describe(outcome, "rows")));
    }
}

/// Plain log lines when stderr is not a terminal (CI, Airflow): a line per quarter done.
#[derive(Debug, Default)]
pub(crate) struct LogLines {
    files: Mutex<HashMap<String, Transfer>>,
}

#[derive(Debug)]
struct Transfer {
    got: u64,
    total: Option<u64>,
    quarters_logged: u64,
}

impl Progress for LogLines {
    fn download_started(&self, label: &str, total: Option<u64>) {
        tracing::info!(file = label, bytes = total, "downloading");
        let transfer = Transfer { got: 0, total, quarters_logged: 0 };
        self.files.lock().unwrap_or_else(|e| e.into_inner()).insert(label.to_owned(), transfer);
    }

    fn downloaded(&self, label: &str, bytes: u64) {
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = files.get_mut(label)
            && let Some(total) = t.total
        {
            t.got += bytes;
            let quarter = (t.got * 4).checked_div(total).unwrap_or(4);
            if quarter > t.quarters_logged && quarter < 4 {
                t.quarters_logged = quarter;
                tracing::info!(file = label, "{}% of {}", quarter * 25, human_size(total));
            }
        }
    }

    fn finished(&self, label: &str, _outcome: &Outcome) {
        self.files.lock().unwrap_or_else(|e| e.into_inner()).remove(label);
    }
}
