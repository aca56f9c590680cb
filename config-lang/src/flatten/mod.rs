//! Flattening: expands compound elements into primitive elements named `outer/inner`, substitutes
//! `define`d and formal parameters into configuration strings, and resolves connections that pass
//! through compound `input`/`output` ports into direct element-to-element connections.
//!
//! Naming follows Click: a declared element keeps its name; an anonymous one is `Class@N`, where N
//! counts the elements of its scope so far (inside a compound, `input` and `output` are elements
//! 1 and 2, so the first anonymous element there is `@3`).

use alloc::collections::BTreeMap;

use alloc::format;
use alloc::rc::Rc;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use hashbrown::{HashMap, HashSet};

use crate::args;
use crate::ast::*;
use crate::diag::Diagnostic;
use crate::graph::{FlatConnection, FlatElement, FlatGraph, Requirement};
use crate::source::{SourceMap, Span};

/// Packages a `require(package ...)` may name; ClickOS-rs links every element it has.
pub const PROVIDED_PACKAGES: &[&str] = &["clickos", "clickos-rs"];
/// The Click language version this implementation follows.
pub const CLICK_VERSION: &str = "2.1";

#[derive(Clone, Debug, Default)]
pub struct FlattenOptions {
    /// `NAME=VALUE` overrides for `define($NAME ...)`.
    pub defines: Vec<(String, String)>,
}

/// Expands `file` into a flat graph. The graph is complete only when no error was reported.
pub fn flatten(
    file: &ConfigFile,
    sources: &SourceMap,
    opts: &FlattenOptions,
) -> (FlatGraph, Vec<Diagnostic>) {
    let mut f = Flattener {
        sources,
        diags: Vec::new(),
        graph: FlatGraph::default(),
        tunnels: Vec::new(),
        conns: Vec::new(),
        depth: 0,
    };
    let mut globals = Vars::default();
    f.collect_defines_and_requires(&file.statements, &mut globals);
    for (k, v) in &opts.defines {
        globals.set(k.trim_start_matches('$'), v.clone());
    }
    let root = Rc::new(Scope {
        classes: BTreeMap::new(),
        parent: None,
    });
    f.expand_body(&file.statements, "", &root, &globals, None);
    f.resolve_connections();
    (f.graph, f.diags)
}

/// Variables visible in a configuration string.
#[derive(Clone, Debug, Default)]
struct Vars {
    map: BTreeMap<String, String>,
}

impl Vars {
    fn set(&mut self, k: &str, v: String) {
        self.map.insert(k.to_string(), v);
    }

    /// Replaces `$name` and `${name}` by their values. Unknown variables stay as written (Click
    /// leaves them for the element to complain about); single-quoted text is left alone.
    fn substitute(&self, text: &str) -> String {
        if !text.contains('$') || self.map.is_empty() {
            return text.to_string();
        }
        let b = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut k = 0;
        let mut last = 0;
        while k < b.len() {
            match b[k] {
                b'\'' => {
                    k = text[k + 1..].find('\'').map_or(b.len(), |n| k + n + 2);
                    continue;
                }
                b'\\' => {
                    k += 2;
                    continue;
                }
                b'$' => {
                    let (name, end) = if b.get(k + 1) == Some(&b'{') {
                        match text[k + 2..].find('}') {
                            Some(n) => (&text[k + 2..k + 2 + n], k + 3 + n),
                            None => ("", k + 1),
                        }
                    } else {
                        let n = text[k + 1..]
                            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                            .unwrap_or(b.len() - k - 1);
                        (&text[k + 1..k + 1 + n], k + 1 + n)
                    };
                    if let Some(v) = self.map.get(name) {
                        out.push_str(&text[last..k]);
                        out.push_str(v);
                        last = end;
                    }
                    k = end.max(k + 1);
                    continue;
                }
                _ => {}
            }
            k += 1;
        }
        out.push_str(&text[last.min(text.len())..]);
        out
    }
}

/// Classes visible at a point of the configuration: the enclosing bodies' definitions so far.
struct Scope<'t> {
    classes: BTreeMap<String, Rc<ClassEntry<'t>>>,
    parent: Option<Rc<Scope<'t>>>,
}

impl<'t> Scope<'t> {
    fn lookup(&self, name: &str) -> Option<Rc<ClassEntry<'t>>> {
        match self.classes.get(name) {
            Some(c) => Some(c.clone()),
            None => self.parent.as_ref().and_then(|p| p.lookup(name)),
        }
    }
}

enum ClassEntry<'t> {
    /// A primitive class, reached through `elementclass New Old;`.
    Primitive(String),
    Compound {
        name: String,
        overloads: Vec<(&'t Overload, Rc<Scope<'t>>)>,
        span: Span,
    },
}

/// A node of the pre-resolution graph: a primitive element, or one side of a compound instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Node {
    Element(usize),
    /// A compound's input side: outer connections arrive, inner `input [p] -> ...` leave.
    TunnelIn(usize),
    /// A compound's output side: inner `... -> [p] output` arrive, outer connections leave.
    TunnelOut(usize),
}

struct Tunnel {
    name: String,
    class: String,
    ninputs: u32,
    noutputs: u32,
}

struct RawConnection {
    from: Node,
    from_port: u32,
    to: Node,
    to_port: u32,
    span: Span,
}

/// What a name in a body stands for.
#[derive(Clone, Copy)]
enum Entry {
    Node {
        as_source: Node,
        as_dest: Node,
    },
    /// `input` inside a compound: only a source.
    Input(usize),
    /// `output` inside a compound: only a destination.
    Output(usize),
}

/// The class of an instance: written after `::` or in `Class(config)`, or a bare name used as a
/// class (`-> Discard`).
#[derive(Clone, Copy)]
enum InstanceClass<'t> {
    Ref(&'t ClassRef),
    Bare(&'t Ident),
}

/// An element to create in a body, in source order.
struct Instance<'t> {
    local_name: String,
    class: InstanceClass<'t>,
    config: Option<&'t ConfigText>,
    span: Span,
}

struct Flattener<'s> {
    sources: &'s SourceMap,
    diags: Vec<Diagnostic>,
    graph: FlatGraph,
    tunnels: Vec<Tunnel>,
    conns: Vec<RawConnection>,
    depth: usize,
}

const MAX_DEPTH: usize = 64;

impl<'s> Flattener<'s> {
    fn error(&mut self, msg: impl Into<String>, span: Span) -> &mut Diagnostic {
        self.diags.push(Diagnostic::error(msg, Some(span)));
        self.diags.last_mut().expect("just pushed")
    }

    fn collect_defines_and_requires(&mut self, stmts: &[Statement], vars: &mut Vars) {
        for st in stmts {
            match st {
                Statement::Define(cfg) => {
                    for a in args::split(&cfg.text) {
                        let span = cfg.span.sub(a.range.start, a.range.end);
                        let s = a.text.as_str();
                        let Some(rest) = s.strip_prefix('$') else {
                            self.error(
                                format!("define: expected '$NAME value', found '{s}'"),
                                span,
                            );
                            continue;
                        };
                        let n = rest
                            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                            .unwrap_or(rest.len());
                        if n == 0 {
                            self.error("define: expected a variable name after '$'", span);
                            continue;
                        }
                        let value = rest[n..].trim();
                        vars.set(&rest[..n], value.to_string());
                    }
                }
                Statement::Require(cfg) => self.check_require(cfg),
                _ => {}
            }
        }
    }

    fn check_require(&mut self, cfg: &ConfigText) {
        for a in args::split(&cfg.text) {
            let span = cfg.span.sub(a.range.start, a.range.end);
            let (kind, value) = match a.text.split_once(char::is_whitespace) {
                Some((k, v)) => (k, args::unquote_lossy(v.trim())),
                None => ("package", args::unquote_lossy(&a.text)),
            };
            match kind {
                "package" => {
                    if !PROVIDED_PACKAGES.contains(&value.as_str()) {
                        self.error(format!("required package '{value}' is not available"), span)
                            .notes
                            .push(format!(
                                "packages provided: {}",
                                PROVIDED_PACKAGES.join(", ")
                            ));
                        continue;
                    }
                }
                "version" => {
                    if version_gt(&value, CLICK_VERSION) {
                        self.error(
                            format!(
                                "requires Click version {value}; this is Click {CLICK_VERSION}"
                            ),
                            span,
                        );
                        continue;
                    }
                }
                _ => {
                    self.error(format!("unsupported requirement '{kind}'"), span)
                        .notes
                        .push("supported: 'package NAME', 'version V'".to_string());
                    continue;
                }
            }
            self.graph.requirements.push(Requirement {
                kind: kind.to_string(),
                value,
                span,
            });
        }
    }

    /// Expands one body (the top level, or a compound's chosen overload) with names prefixed by
    /// `prefix`. `tunnel` is the compound instance whose body this is.
    fn expand_body<'t>(
        &mut self,
        stmts: &'t [Statement],
        prefix: &str,
        outer: &Rc<Scope<'t>>,
        vars: &Vars,
        tunnel: Option<usize>,
    ) {
        // Classes defined in this body, each seeing those defined before it.
        let mut scope = Scope {
            classes: BTreeMap::new(),
            parent: Some(outer.clone()),
        };
        for st in stmts {
            if let Statement::ElementClass(ec) = st {
                let entry = self.define_class(ec, &scope, outer);
                scope.classes.insert(ec.name.name.clone(), Rc::new(entry));
            }
        }
        let scope = Rc::new(scope);

        // Names declared anywhere in the body (a connection may use a name declared below it).
        let mut declared: HashMap<&str, Span> = HashMap::new();
        for st in stmts {
            let sources = self.sources;
            let mut declare = |d: &'t Declaration, diags: &mut Vec<Diagnostic>| {
                for n in &d.names {
                    if let Some(prev) = declared.insert(n.name.as_str(), n.span) {
                        diags.push(
                            Diagnostic::error(
                                format!("redeclaration of element '{}'", n.name),
                                Some(n.span),
                            )
                            .with_note(where_(
                                sources,
                                prev,
                                "first declared",
                            )),
                        );
                    }
                }
            };
            match st {
                Statement::Declaration(d) => declare(d, &mut self.diags),
                Statement::Chain(c) => {
                    for e in &c.endpoints {
                        if let ElementRef::Declared(d) = &e.element {
                            declare(d, &mut self.diags);
                        }
                    }
                }
                _ => {}
            }
        }

        // Instances in source order, with Click's anonymous numbering; and for each chain, which
        // instance (or pseudo element) each endpoint is.
        let mut instances: Vec<Instance<'t>> = Vec::new();
        let mut counter = if tunnel.is_some() { 2 } else { 0 };
        let mut by_name: HashMap<String, usize> = HashMap::new();
        let mut chain_refs: Vec<Vec<Option<EndpointRef>>> = Vec::new();
        for st in stmts {
            match st {
                Statement::Declaration(d) => {
                    for n in &d.names {
                        counter += 1;
                        if by_name.contains_key(&n.name) {
                            continue;
                        }
                        by_name.insert(n.name.clone(), instances.len());
                        instances.push(Instance {
                            local_name: n.name.clone(),
                            class: InstanceClass::Ref(&d.class),
                            config: d.config.as_ref(),
                            span: d.span,
                        });
                    }
                }
                Statement::Chain(c) => {
                    let mut refs = Vec::new();
                    for e in &c.endpoints {
                        let r = match &e.element {
                            ElementRef::Declared(d) => {
                                counter += 1;
                                let n = &d.names[0];
                                if !by_name.contains_key(&n.name) {
                                    by_name.insert(n.name.clone(), instances.len());
                                    instances.push(Instance {
                                        local_name: n.name.clone(),
                                        class: InstanceClass::Ref(&d.class),
                                        config: d.config.as_ref(),
                                        span: d.span,
                                    });
                                }
                                Some(EndpointRef::Named(n.name.clone()))
                            }
                            ElementRef::Anonymous {
                                class,
                                config,
                                span,
                            } => {
                                counter += 1;
                                let base = match class {
                                    ClassRef::Named(i) => i.name.as_str(),
                                    ClassRef::Inline(_) => "",
                                };
                                let name = format!("{base}@{counter}");
                                by_name.insert(name.clone(), instances.len());
                                instances.push(Instance {
                                    local_name: name.clone(),
                                    class: InstanceClass::Ref(class),
                                    config: config.as_ref(),
                                    span: *span,
                                });
                                Some(EndpointRef::Named(name))
                            }
                            ElementRef::Name(id) => {
                                if declared.contains_key(id.name.as_str()) {
                                    Some(EndpointRef::Named(id.name.clone()))
                                } else if tunnel.is_some() && id.name == "input" {
                                    Some(EndpointRef::Input)
                                } else if tunnel.is_some() && id.name == "output" {
                                    Some(EndpointRef::Output)
                                } else {
                                    // A class used anonymously: `-> Discard`.
                                    counter += 1;
                                    let name = format!("{}@{counter}", id.name);
                                    by_name.insert(name.clone(), instances.len());
                                    instances.push(Instance {
                                        local_name: name.clone(),
                                        class: InstanceClass::Bare(id),
                                        config: None,
                                        span: id.span,
                                    });
                                    Some(EndpointRef::Named(name))
                                }
                            }
                        };
                        refs.push(r);
                    }
                    chain_refs.push(refs);
                }
                _ => {}
            }
        }

        // Create the elements.
        let mut entries: HashMap<String, Entry> = HashMap::new();
        for inst in &instances {
            let full = format!("{prefix}{}", inst.local_name);
            let entry = self.instantiate(inst, &full, &scope, vars);
            if let Some(e) = entry {
                entries.insert(inst.local_name.clone(), e);
            }
        }
        if let Some(t) = tunnel {
            entries.insert("input".into(), Entry::Input(t));
            entries.insert("output".into(), Entry::Output(t));
        }

        // Connections.
        let mut refs_iter = chain_refs.into_iter();
        for st in stmts {
            let Statement::Chain(c) = st else { continue };
            let refs = refs_iter.next().expect("one refs list per chain");
            for (k, arrow) in c.arrows.iter().enumerate() {
                let (from_ep, to_ep) = (&c.endpoints[k], &c.endpoints[k + 1]);
                let from = refs[k].as_ref().and_then(|r| r.entry(&entries));
                let to = refs[k + 1].as_ref().and_then(|r| r.entry(&entries));
                let (Some(from), Some(to)) = (from, to) else {
                    continue;
                };
                let from_node = match from {
                    Entry::Node { as_source, .. } => as_source,
                    Entry::Input(t) => Node::TunnelIn(t),
                    Entry::Output(_) => {
                        self.error("'output' cannot be the source of a connection", from_ep.element.span())
                            .notes
                            .push("inside a compound element, 'output' is where packets leave: connect 'x -> output'".into());
                        continue;
                    }
                };
                let to_node = match to {
                    Entry::Node { as_dest, .. } => as_dest,
                    Entry::Output(t) => Node::TunnelOut(t),
                    Entry::Input(_) => {
                        self.error("'input' cannot be the destination of a connection", to_ep.element.span())
                            .notes
                            .push("inside a compound element, 'input' is where packets arrive: connect 'input -> x'".into());
                        continue;
                    }
                };
                let from_port = from_ep.output_port.map_or(0, |p| p.number);
                let to_port = to_ep.input_port.map_or(0, |p| p.number);
                if let Node::TunnelIn(t) = from_node {
                    self.tunnels[t].ninputs = self.tunnels[t].ninputs.max(from_port + 1);
                }
                if let Node::TunnelOut(t) = to_node {
                    self.tunnels[t].noutputs = self.tunnels[t].noutputs.max(to_port + 1);
                }
                let span = from_ep.element.span().to(to_ep.element.span()).to(*arrow);
                self.conns.push(RawConnection {
                    from: from_node,
                    from_port,
                    to: to_node,
                    to_port,
                    span,
                });
            }
        }
    }

    fn where_(&self, span: Span, what: &str) -> String {
        where_(self.sources, span, what)
    }

    fn define_class<'t>(
        &mut self,
        ec: &'t ElementClass,
        scope: &Scope<'t>,
        outer: &Rc<Scope<'t>>,
    ) -> ClassEntry<'t> {
        // The definition sees the classes defined before it in the same body.
        let def_scope = Rc::new(Scope {
            classes: scope.classes.clone(),
            parent: Some(outer.clone()),
        });
        match &ec.body {
            ClassBody::Synonym(other) => match def_scope.lookup(&other.name) {
                Some(entry) => match &*entry {
                    ClassEntry::Primitive(p) => ClassEntry::Primitive(p.clone()),
                    ClassEntry::Compound { overloads, .. } => ClassEntry::Compound {
                        name: ec.name.name.clone(),
                        overloads: overloads.clone(),
                        span: ec.span,
                    },
                },
                None => ClassEntry::Primitive(other.name.clone()),
            },
            ClassBody::Compound(c) => {
                let mut overloads: Vec<(&'t Overload, Rc<Scope<'t>>)> =
                    c.overloads.iter().map(|o| (o, def_scope.clone())).collect();
                if c.inherits_previous {
                    match def_scope.lookup(&ec.name.name) {
                        Some(prev) => {
                            if let ClassEntry::Compound { overloads: old, .. } = &*prev {
                                overloads.extend(old.iter().cloned());
                            }
                        }
                        None => {
                            self.error(
                                format!(
                                    "'...' in class '{}' extends no earlier definition",
                                    ec.name.name
                                ),
                                c.span,
                            );
                        }
                    }
                }
                ClassEntry::Compound {
                    name: ec.name.name.clone(),
                    overloads,
                    span: ec.span,
                }
            }
        }
    }

    /// Creates one element (or expands one compound); returns what its name stands for.
    fn instantiate<'t>(
        &mut self,
        inst: &Instance<'t>,
        full: &str,
        scope: &Rc<Scope<'t>>,
        vars: &Vars,
    ) -> Option<Entry> {
        let raw_config = inst.config.map_or("", |c| c.text.as_str());
        let config = vars.substitute(raw_config);
        let config_span = inst.config.filter(|c| c.text == config).map(|c| c.span);
        let (class_name, entry) = match inst.class {
            InstanceClass::Ref(ClassRef::Named(id)) | InstanceClass::Bare(id) => {
                match scope.lookup(&id.name) {
                    None => (id.name.clone(), None),
                    Some(e) => match &*e {
                        ClassEntry::Primitive(p) => (p.clone(), None),
                        ClassEntry::Compound { .. } => (id.name.clone(), Some(e.clone())),
                    },
                }
            }
            InstanceClass::Ref(ClassRef::Inline(c)) => {
                let overloads = c.overloads.iter().map(|o| (o, scope.clone())).collect();
                (
                    String::new(),
                    Some(Rc::new(ClassEntry::Compound {
                        name: String::new(),
                        overloads,
                        span: c.span,
                    })),
                )
            }
        };
        let Some(entry) = entry else {
            self.graph.elements.push(FlatElement {
                name: full.to_string(),
                class: class_name,
                config,
                span: inst.span,
                config_span,
            });
            let n = Node::Element(self.graph.elements.len() - 1);
            return Some(Entry::Node {
                as_source: n,
                as_dest: n,
            });
        };
        let ClassEntry::Compound {
            name: cname,
            overloads,
            span: class_span,
        } = &*entry
        else {
            unreachable!()
        };
        if self.depth >= MAX_DEPTH {
            self.error(format!("compound elements nest more than {MAX_DEPTH} deep (is class '{cname}' recursive?)"), inst.span);
            return None;
        }
        // Choose the overload whose formals take the arguments given.
        let given = args::split(&config);
        let mut chosen = None;
        for (ov, def_scope) in overloads {
            if let Some(bound) = bind_formals(&ov.formals, &given) {
                chosen = Some((*ov, def_scope.clone(), bound));
                break;
            }
        }
        let Some((ov, def_scope, bound)) = chosen else {
            let shown = if cname.is_empty() {
                "this compound element".to_string()
            } else {
                format!("class '{cname}'")
            };
            let mut d = Diagnostic::error(
                format!("wrong arguments for {shown}: {} given", given.len()),
                Some(inst.config.map_or(inst.span, |c| c.span)),
            );
            for (ov, _) in overloads {
                let f: Vec<String> = ov
                    .formals
                    .iter()
                    .map(|f| match &f.keyword {
                        Some(k) => format!("{k} ${}", f.name.name),
                        None => format!("${}", f.name.name),
                    })
                    .collect();
                d = d.with_note(format!(
                    "{} takes ({})",
                    if cname.is_empty() { "it" } else { cname },
                    f.join(", ")
                ));
            }
            d = d.with_note(self.where_(*class_span, "class defined"));
            self.diags.push(d);
            return None;
        };
        let mut inner_vars = vars.clone();
        for (k, v) in bound {
            inner_vars.set(&k, v);
        }
        let t = self.tunnels.len();
        self.tunnels.push(Tunnel {
            name: full.to_string(),
            class: cname.clone(),
            ninputs: 0,
            noutputs: 0,
        });
        self.depth += 1;
        self.expand_body(
            &ov.body,
            &format!("{full}/"),
            &def_scope,
            &inner_vars,
            Some(t),
        );
        self.depth -= 1;
        Some(Entry::Node {
            as_source: Node::TunnelOut(t),
            as_dest: Node::TunnelIn(t),
        })
    }

    /// Turns connections through compound ports into direct ones, and checks compound port
    /// numbers.
    fn resolve_connections(&mut self) {
        // Only connections leaving a compound's side are ever followed.
        let mut out_index: HashMap<(Node, u32), Vec<usize>> = HashMap::new();
        for (k, c) in self.conns.iter().enumerate() {
            if !matches!(c.from, Node::Element(_)) {
                out_index.entry((c.from, c.from_port)).or_default().push(k);
            }
        }
        let mut seen = HashSet::new();
        let mut result = Vec::new();
        let mut errors = Vec::new();
        for c in &self.conns {
            // Port checks on compound endpoints, from the outer side.
            // (Only outer connections can reach a compound's input side: inside its body the
            // compound has no name, and 'input' cannot be a destination.)
            if let Node::TunnelIn(t) = c.to {
                let tun = &self.tunnels[t];
                if c.to_port >= tun.ninputs {
                    errors.push((
                        c.span,
                        compound_port_error(tun, "input", c.to_port, tun.ninputs),
                    ));
                    continue;
                }
            }
            if let Node::TunnelOut(t) = c.from {
                let tun = &self.tunnels[t];
                if c.from_port >= tun.noutputs {
                    errors.push((
                        c.span,
                        compound_port_error(tun, "output", c.from_port, tun.noutputs),
                    ));
                    continue;
                }
            }
            let Node::Element(from) = c.from else {
                continue;
            };
            let mut targets = Vec::new();
            let mut visiting = HashSet::new();
            self.follow(c.to, c.to_port, &out_index, &mut visiting, &mut targets);
            for (to, to_port) in targets {
                if seen.insert((from, c.from_port, to, to_port)) {
                    result.push(FlatConnection {
                        from,
                        from_port: c.from_port,
                        to,
                        to_port,
                        span: c.span,
                    });
                }
            }
        }
        for (span, msg) in errors {
            self.error(msg, span);
        }
        self.graph.connections = result;
    }

    fn follow(
        &self,
        node: Node,
        port: u32,
        out_index: &HashMap<(Node, u32), Vec<usize>>,
        visiting: &mut HashSet<(Node, u32)>,
        targets: &mut Vec<(usize, u32)>,
    ) {
        match node {
            Node::Element(e) => targets.push((e, port)),
            Node::TunnelIn(_) | Node::TunnelOut(_) => {
                if !visiting.insert((node, port)) {
                    return; // a loop of pass-through ports carries no packets anywhere
                }
                if let Some(ks) = out_index.get(&(node, port)) {
                    for &k in ks {
                        let c = &self.conns[k];
                        self.follow(c.to, c.to_port, out_index, visiting, targets);
                    }
                }
            }
        }
    }
}

fn compound_port_error(t: &Tunnel, dir: &str, port: u32, n: u32) -> String {
    let class = if t.class.is_empty() {
        String::from("an inline compound")
    } else {
        format!("class '{}'", t.class)
    };
    match n {
        0 => format!(
            "'{}' ({class}) has no {dir} ports, but {dir} {port} is connected",
            t.name
        ),
        _ => format!(
            "'{}' ({class}) has {n} {dir} port{}, but {dir} {port} is connected",
            t.name,
            if n == 1 { "" } else { "s" }
        ),
    }
}

enum EndpointRef {
    Named(String),
    Input,
    Output,
}

impl EndpointRef {
    fn entry(&self, entries: &HashMap<String, Entry>) -> Option<Entry> {
        match self {
            EndpointRef::Named(n) => entries.get(n).copied(),
            EndpointRef::Input => entries.get("input").copied(),
            EndpointRef::Output => entries.get("output").copied(),
        }
    }
}

/// Binds actual arguments to formals: positional formals in order, keyword formals by keyword.
/// `None` when they do not fit (so another overload may be tried).
fn bind_formals(formals: &[Formal], given: &[args::RawArg]) -> Option<Vec<(String, String)>> {
    let positional: Vec<&Formal> = formals.iter().filter(|f| f.keyword.is_none()).collect();
    let keywords: Vec<&Formal> = formals.iter().filter(|f| f.keyword.is_some()).collect();
    let mut out = Vec::new();
    let mut pos_vals = Vec::new();
    let mut kw_vals: BTreeMap<&str, String> = BTreeMap::new();
    for a in given {
        match a.keyword() {
            Some((k, v)) if keywords.iter().any(|f| f.keyword.as_deref() == Some(k)) => {
                kw_vals.insert(k, v.to_string());
            }
            _ => pos_vals.push(a.text.clone()),
        }
    }
    if pos_vals.len() != positional.len() {
        // Click lets the last positional formal take the rest of the arguments.
        if positional.is_empty() || pos_vals.len() < positional.len() {
            return None;
        }
        let extra = pos_vals.split_off(positional.len() - 1).join(", ");
        pos_vals.push(extra);
    }
    for (f, v) in positional.iter().zip(pos_vals) {
        out.push((f.name.name.clone(), v));
    }
    for f in keywords {
        let k = f.keyword.as_deref().expect("keyword formal");
        out.push((f.name.name.clone(), kw_vals.remove(k).unwrap_or_default()));
    }
    Some(out)
}

/// "first declared at fw.click:3:1".
fn where_(sources: &SourceMap, span: Span, what: &str) -> String {
    let (f, l, c) = sources.location(span);
    format!("{what} at {f}:{l}:{c}")
}

/// `a > b` for dotted version numbers.
fn version_gt(a: &str, b: &str) -> bool {
    let parse = |s: &str| -> Vec<u32> {
        s.split('.')
            .map(|p| p.trim().parse().unwrap_or(0))
            .collect()
    };
    parse(a) > parse(b)
}

#[cfg(test)]
mod tests;
