//! Printing an error and its causes once each: one line per cause, outermost first.
//!
//! Many errors (this workspace's, object_store's, sqlx's) write their source into their own
//! message *and* return it from [`Error::source`], so printing the chain naively repeats the
//! innermost cause once per level. [`ErrorChain`] walks the chain and drops from each message
//! the text of the cause printed on the next line.
//!
//! ```
//! use atl_core::ErrorChain;
//!
//! let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
//! #[derive(Debug)]
//! struct Opening(std::io::Error);
//! impl std::fmt::Display for Opening {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//!         write!(f, "opening data/lake: {}", self.0)
//!     }
//! }
//! impl std::error::Error for Opening {
//!     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> { Some(&self.0) }
//! }
//! let e = Opening(io);
//! assert_eq!(ErrorChain::new(&e).to_string(), "opening data/lake\n  caused by: no such file");
//! ```

use std::error::Error;
use std::fmt;

/// Renders one error of a chain in its own words (e.g. a database error without the
/// driver's source line); `None` keeps its `Display`, `Some("")` skips the level.
pub type RenderCause = fn(&(dyn Error + 'static)) -> Option<String>;

/// An error with its whole source chain, each cause said once (see the module docs).
#[derive(Debug)]
pub struct ErrorChain<'a> {
    error: &'a (dyn Error + 'static),
    render: Option<RenderCause>,
}

impl<'a> ErrorChain<'a> {
    pub fn new(error: &'a (dyn Error + 'static)) -> ErrorChain<'a> {
        ErrorChain { error, render: None }
    }

    /// Uses `render` for the levels it knows.
    pub fn with_render(mut self, render: RenderCause) -> ErrorChain<'a> {
        self.render = Some(render);
        self
    }

    /// The lines: the outermost message first, then each cause not already said.
    pub fn lines(&self) -> Vec<String> {
        let mut levels: Vec<(String, String)> = Vec::new();
        let mut next: Option<&(dyn Error + 'static)> = Some(self.error);
        while let Some(e) = next {
            let display = e.to_string();
            let shown = self.render.and_then(|r| r(e)).unwrap_or_else(|| display.clone());
            levels.push((display, shown));
            next = e.source();
        }
        let mut lines: Vec<String> = Vec::new();
        for (display, shown) in levels {
            let cause = display.trim();
            if !cause.is_empty()
                && let Some(last) = lines.last_mut()
            {
                match strip_suffix(last, cause) {
                    Some(stripped) => *last = stripped,
                    // Said in the middle of an outer message: said already.
                    None if lines.iter().any(|l| l.contains(cause)) => continue,
                    None => {}
                }
            }
            lines.push(shown.trim().to_owned());
        }
        lines.retain(|l| !l.is_empty());
        lines.dedup();
        lines
    }
}

/// `message` without a trailing `cause` and the separator before it.
fn strip_suffix(message: &str, cause: &str) -> Option<String> {
    let head = message.trim_end().strip_suffix(cause)?;
    let head = head.trim_end();
    let head = head.strip_suffix(':').or_else(|| head.strip_suffix(" -")).unwrap_or(head);
    let head = head.strip_suffix(" (").unwrap_or(head);
    Some(head.trim_end().to_owned())
}

impl ErrorChain<'_> {
    /// The lines joined with `: `, for a report line.
    pub fn one_line(&self) -> String {
        self.lines().join(": ")
    }
}

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, line) in self.lines().iter().enumerate() {
            if i == 0 {
                f.write_str(line)?;
            } else {
                write!(f, "\n  caused by: {line}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Level(String, Option<Box<Level>>);
    impl fmt::Display for Level {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.0)
        }
    }
    impl Error for Level {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|l| l as &(dyn Error + 'static))
        }
    }

    fn chain(messages: &[&str]) -> Level {
        let mut inner: Option<Box<Level>> = None;
        for m in messages.iter().rev() {
            inner = Some(Box::new(Level((*m).to_owned(), inner)));
        }
        *inner.unwrap()
    }

    #[test]
    fn each_cause_is_said_once() {
        let e = chain(&[
            "loading yellow months into postgres://atl:***@h/db",
            "connecting to the warehouse at postgres://atl:***@h/db: error communicating with database: Connection refused (os error 111)",
            "error communicating with database: Connection refused (os error 111)",
            "Connection refused (os error 111)",
        ]);
        assert_eq!(
            ErrorChain::new(&e).lines(),
            [
                "loading yellow months into postgres://atl:***@h/db",
                "connecting to the warehouse at postgres://atl:***@h/db",
                "error communicating with database",
                "Connection refused (os error 111)",
            ]
        );
    }

    #[test]
    fn a_cause_said_inside_the_outer_message_is_not_repeated() {
        let e =
            chain(&["x.parquet: its rows belong to 2025-02; left as it was", "its rows belong to 2025-02"]);
        assert_eq!(ErrorChain::new(&e).lines(), ["x.parquet: its rows belong to 2025-02; left as it was"]);
    }

    #[test]
    fn a_renderer_replaces_a_level() {
        fn render(e: &(dyn Error + 'static)) -> Option<String> {
            match e.to_string().as_str() {
                "relation missing at line 1180" => Some("relation missing".to_owned()),
                m if m.starts_with("error returned from database") => Some(String::new()),
                _ => None,
            }
        }
        let e = chain(&[
            "auditing raw.p: error returned from database: relation missing at line 1180",
            "error returned from database: relation missing at line 1180",
            "relation missing at line 1180",
        ]);
        assert_eq!(ErrorChain::new(&e).with_render(render).lines(), ["auditing raw.p", "relation missing"]);
    }
}
