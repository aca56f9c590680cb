//! # The Click configuration language
//!
//! Parses Click router configurations as Click itself accepts them, expands compound elements into
//! a flat graph with Click's naming (`outer/inner`), prints that graph back as Click text or as
//! Graphviz, and provides the argument toolkit elements use to read their configuration strings.
//!
//! Every problem is a [`Diagnostic`] with `file:line:col` and a source excerpt; a parse reports all
//! independent errors, not only the first.
//!
//! `no_std` + `alloc`: the same code runs in the ClickOS guest and in `clickos-cli`.
//!
//! ```
//! let loaded = config_lang::load("fw.click", "src :: InfiniteSource(LIMIT 5) -> c :: Counter -> Discard;", &[]);
//! let graph = loaded.graph.expect("valid");
//! assert_eq!(graph.elements.len(), 3);
//! assert_eq!(graph.elements[2].name, "Discard@3");
//! ```

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod args;
pub mod ast;
pub mod diag;
pub mod flatten;
pub mod graph;
pub mod parse;
pub mod source;

pub use diag::{Diagnostic, Level};
pub use flatten::{flatten, FlattenOptions};
pub use graph::{FlatConnection, FlatElement, FlatGraph, Requirement};
pub use source::{FileId, SourceMap, Span};

use alloc::string::String;
use alloc::vec::Vec;

/// The result of loading a configuration: the sources (for rendering diagnostics), the flat
/// graph if there were no errors, and every diagnostic (errors and warnings).
pub struct Loaded {
    pub sources: SourceMap,
    pub graph: Option<FlatGraph>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// All diagnostics rendered with source excerpts.
    pub fn render_diagnostics(&self) -> String {
        diag::render_all(&self.diagnostics, &self.sources)
    }
}

/// Parses and flattens one configuration. `defines` override `define($NAME ...)` values, as
/// `NAME=VALUE` does on Click's command line.
pub fn load(name: &str, text: &str, defines: &[(String, String)]) -> Loaded {
    let mut sources = SourceMap::new();
    let file = sources.add(name, text);
    let (ast, mut diagnostics) = parse::parse_file(&sources, file);
    let opts = FlattenOptions {
        defines: defines.to_vec(),
    };
    let (graph, mut more) = flatten::flatten(&ast, &sources, &opts);
    diagnostics.append(&mut more);
    let graph = if diagnostics.iter().any(Diagnostic::is_error) {
        None
    } else {
        Some(graph)
    };
    Loaded {
        sources,
        graph,
        diagnostics,
    }
}
