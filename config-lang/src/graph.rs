//! The flat graph: primitive elements and the connections between their ports, after compound
//! elements are expanded. This is what a router is built from.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::source::Span;

/// One primitive element: `name :: class(config)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlatElement {
    /// Full name, with compound prefixes: `fw/filter`.
    pub name: String,
    pub class: String,
    /// The configuration string with variables substituted.
    pub config: String,
    /// Where the element was declared (innermost declaration).
    pub span: Span,
    /// Where its configuration string was written, when its text came straight from the source.
    pub config_span: Option<Span>,
    /// Where its class name was written (for "unknown class" errors).
    pub class_span: Option<Span>,
}

/// `from [from_port] -> [to_port] to`, by element index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlatConnection {
    pub from: usize,
    pub from_port: u32,
    pub to: usize,
    pub to_port: u32,
    pub span: Span,
}

/// A `require(...)` entry, e.g. `package clickos`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub kind: String,
    pub value: String,
    pub span: Span,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlatGraph {
    pub elements: Vec<FlatElement>,
    pub connections: Vec<FlatConnection>,
    pub requirements: Vec<Requirement>,
}

impl FlatGraph {
    pub fn find(&self, name: &str) -> Option<usize> {
        self.elements.iter().position(|e| e.name == name)
    }

    /// The graph as Click text that parses back to the same graph.
    pub fn to_click(&self) -> String {
        let mut out = String::new();
        for r in &self.requirements {
            let _ = writeln!(out, "require({} {});", r.kind, r.value);
        }
        for e in &self.elements {
            if e.config.is_empty() {
                let _ = writeln!(out, "{} :: {};", e.name, e.class);
            } else {
                let _ = writeln!(out, "{} :: {}({});", e.name, e.class, e.config);
            }
        }
        if !self.connections.is_empty() {
            out.push('\n');
        }
        for c in &self.connections {
            let from = &self.elements[c.from].name;
            let to = &self.elements[c.to].name;
            let _ = match (c.from_port, c.to_port) {
                (0, 0) => writeln!(out, "{from} -> {to};"),
                (p, 0) => writeln!(out, "{from} [{p}] -> {to};"),
                (0, q) => writeln!(out, "{from} -> [{q}] {to};"),
                (p, q) => writeln!(out, "{from} [{p}] -> [{q}] {to};"),
            };
        }
        out
    }

    /// The graph in Graphviz DOT: one record node per element with its ports, edges port to port.
    pub fn to_dot(&self) -> String {
        let mut ninputs = alloc::vec![0u32; self.elements.len()];
        let mut noutputs = alloc::vec![0u32; self.elements.len()];
        for c in &self.connections {
            noutputs[c.from] = noutputs[c.from].max(c.from_port + 1);
            ninputs[c.to] = ninputs[c.to].max(c.to_port + 1);
        }
        let mut out = String::from("digraph clickos {\n  rankdir=LR;\n  node [shape=record, fontname=\"monospace\", fontsize=10];\n  edge [fontsize=9];\n");
        for (i, e) in self.elements.iter().enumerate() {
            let ports = |n: u32, dir: char| {
                (0..n)
                    .map(|p| format!("<{dir}{p}> {p}"))
                    .collect::<Vec<_>>()
                    .join("|")
            };
            let mut label = String::new();
            if ninputs[i] > 0 {
                let _ = write!(label, "{{{}}}|", ports(ninputs[i], 'i'));
            }
            let _ = write!(label, "{}\\n{}", dot_escape(&e.name), dot_escape(&e.class));
            if noutputs[i] > 0 {
                let _ = write!(label, "|{{{}}}", ports(noutputs[i], 'o'));
            }
            let _ = writeln!(
                out,
                "  n{i} [label=\"{{{label}}}\", tooltip=\"{}\"];",
                dot_escape(&e.config)
            );
        }
        for c in &self.connections {
            let _ = writeln!(
                out,
                "  n{}:o{} -> n{}:i{};",
                c.from, c.from_port, c.to, c.to_port
            );
        }
        out.push_str("}\n");
        out
    }

    /// A canonical form for comparing graphs: elements by name with class and config, and
    /// connections by names. Two configurations mean the same router when these are equal.
    pub fn canonical(
        &self,
    ) -> (
        BTreeMap<String, (String, String)>,
        Vec<(String, u32, String, u32)>,
    ) {
        let els = self
            .elements
            .iter()
            .map(|e| (e.name.clone(), (e.class.clone(), e.config.clone())))
            .collect();
        let mut conns: Vec<_> = self
            .connections
            .iter()
            .map(|c| {
                (
                    self.elements[c.from].name.clone(),
                    c.from_port,
                    self.elements[c.to].name.clone(),
                    c.to_port,
                )
            })
            .collect();
        conns.sort();
        (els, conns)
    }
}

/// Escapes text for a DOT record label: quotes, braces, bars and angle brackets are syntax there.
fn dot_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' | '{' | '}' | '|' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out
}
