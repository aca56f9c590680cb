//! Diagnostics: errors and warnings with a source location, rendered the way rustc prints them.
//!
//! ```text
//! error: expected element name or class after '->'
//!  --> fw.click:3:8
//!   |
//! 3 | a -> ;
//!   |      ^ here
//! ```

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::source::{SourceMap, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warning,
}

/// One message about the configuration, with where it applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub level: Level,
    pub message: String,
    /// Where the problem is; `None` for problems with no place in the source (e.g. a missing file).
    pub span: Option<Span>,
    /// Short text printed after the caret.
    pub label: Option<String>,
    /// Extra lines (`= note: ...`), e.g. the list of valid choices.
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>, span: Option<Span>) -> Diagnostic {
        Diagnostic {
            level: Level::Error,
            message: message.into(),
            span,
            label: None,
            notes: Vec::new(),
        }
    }

    pub fn warning(message: impl Into<String>, span: Option<Span>) -> Diagnostic {
        Diagnostic {
            level: Level::Warning,
            message: message.into(),
            span,
            label: None,
            notes: Vec::new(),
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }

    /// `file:line:col: error: message` on one line, for logs and Xenstore status nodes.
    pub fn one_line(&self, sources: &SourceMap) -> String {
        let lvl = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        match self.span {
            Some(sp) => {
                let (f, l, c) = sources.location(sp);
                format!("{f}:{l}:{c}: {lvl}: {}", self.message)
            }
            None => format!("{lvl}: {}", self.message),
        }
    }

    /// The full multi-line rendering with a source excerpt and a caret.
    pub fn render(&self, sources: &SourceMap) -> String {
        let mut out = String::new();
        let lvl = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        let _ = writeln!(out, "{lvl}: {}", self.message);
        if let Some(sp) = self.span {
            let file = sources.file(sp.file);
            let (line, col) = file.line_col(sp.start);
            let (end_line, end_col) = file.line_col(sp.end);
            let num = format!("{line}");
            let pad = " ".repeat(num.len());
            let _ = writeln!(out, "{pad}--> {}:{line}:{col}", file.name);
            let _ = writeln!(out, "{pad} |");
            // Tabs would misalign the caret, so the excerpt shows them as single spaces.
            let text: String = file
                .line_text(line)
                .chars()
                .map(|c| if c == '\t' { ' ' } else { c })
                .collect();
            let _ = writeln!(out, "{num} | {text}");
            let width = if end_line == line {
                (end_col.saturating_sub(col)).max(1)
            } else {
                (text.chars().count() + 1).saturating_sub(col).max(1)
            };
            let _ = write!(out, "{pad} | {}{}", " ".repeat(col - 1), "^".repeat(width));
            if let Some(label) = &self.label {
                let _ = write!(out, " {label}");
            }
            out.push('\n');
        }
        for n in &self.notes {
            let pad = match self.span {
                Some(sp) => " ".repeat(format!("{}", sources.location(sp).1).len()),
                None => String::new(),
            };
            let _ = writeln!(out, "{pad} = note: {n}");
        }
        out
    }
}

/// Renders every diagnostic and a closing summary line, as a command-line tool prints them.
pub fn render_all(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in diags {
        out.push_str(&d.render(sources));
        out.push('\n');
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    match errors {
        0 => {}
        1 => out.push_str("error: could not load the configuration due to the previous error\n"),
        n => {
            let _ = writeln!(
                out,
                "error: could not load the configuration due to {n} previous errors"
            );
        }
    }
    out
}

/// Suggests the candidate closest to `word` (edit distance at most a third of its length), for
/// "did you mean" notes.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| {
            (
                edit_distance(&word.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = alloc::vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = if ca == *cb { 0 } else { 1 };
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    #[test]
    fn renders_like_rustc() {
        let mut sm = SourceMap::new();
        let f = sm.add(
            "fw.click",
            "src :: InfiniteSource;\nsrc -> Countr -> Discard;\n",
        );
        let d = Diagnostic::error("unknown element class 'Countr'", Some(Span::new(f, 30, 36)))
            .with_label("not a known class")
            .with_note("did you mean 'Counter'?");
        let text = d.render(&sm);
        assert_eq!(
            text,
            "error: unknown element class 'Countr'\n --> fw.click:2:8\n  |\n2 | src -> Countr -> Discard;\n  |        ^^^^^^ not a known class\n  = note: did you mean 'Counter'?\n"
        );
        assert_eq!(
            d.one_line(&sm),
            "fw.click:2:8: error: unknown element class 'Countr'"
        );
        let _ = FileId(0);
    }

    #[test]
    fn closest_suggests_near_names_only() {
        assert_eq!(closest("Countr", ["Counter", "Discard"]), Some("Counter"));
        assert_eq!(closest("Zzz", ["Counter", "Discard"]), None);
    }
}
