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
/// `compact_config` is a driver feature every Click driver provides.
pub const PROVIDED_PACKAGES: &[&str] = &["clickos", "clickos-rs", "compact_config"];
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
                    // `$name`, `${name}`, `${name[i]}` (the i-th word), `${name-default}`.
                    let (value, end): (Option<String>, usize) = if b.get(k + 1) == Some(&b'{') {
                        match text[k + 2..].find('}') {
                            Some(n) => (self.braced(&text[k + 2..k + 2 + n]), k + 3 + n),
                            None => (None, k + 1),
                        }
                    } else {
                        let n = text[k + 1..]
                            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                            .unwrap_or(b.len() - k - 1);
                        (self.map.get(&text[k + 1..k + 1 + n]).cloned(), k + 1 + n)
                    };
                    if let Some(v) = value {
                        out.push_str(&text[last..k]);
                        out.push_str(&v);
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

impl Vars {
    /// The value of what is inside `${...}`: `name`, `name[i]` or `name-default`.
    fn braced(&self, inner: &str) -> Option<String> {
        if let Some((name, idx)) = inner.strip_suffix(']').and_then(|x| x.split_once('[')) {
            let i: usize = idx.trim().parse().ok()?;
            let v = self.map.get(name)?;
            return Some(v.split_whitespace().nth(i).unwrap_or("").to_string());
        }
        if let Some((name, default)) = inner.split_once('-') {
            return Some(
                self.map
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| default.to_string()),
            );
        }
        self.map.get(inner).cloned()
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
        // A compound body's own `define`s apply to the whole body.
        let local_vars;
        let vars = if tunnel.is_some() && stmts.iter().any(|s| matches!(s, Statement::Define(_))) {
            let mut v = vars.clone();
            let body_defines: Vec<Statement> = stmts
                .iter()
                .filter(|s| matches!(s, Statement::Define(_)))
                .cloned()
                .collect();
            self.collect_defines_and_requires(&body_defines, &mut v);
            local_vars = v;
            &local_vars
        } else {
            vars
        };
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
                    for e in c.sides.iter().flatten() {
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
        // Click counts elements of the scope; in a compound, `input` and `output` do not count.
        let mut counter = 0usize;
        let mut by_name: HashMap<String, usize> = HashMap::new();
        let mut chain_refs: Vec<Vec<Vec<Option<EndpointRef>>>> = Vec::new();
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
                    for side in &c.sides {
                        let mut side_refs = Vec::new();
                        for e in side {
                            let r = self.endpoint_ref(
                                e,
                                &declared,
                                &mut by_name,
                                &mut instances,
                                &mut counter,
                                tunnel.is_some(),
                            );
                            side_refs.push(r);
                        }
                        refs.push(side_refs);
                    }
                    chain_refs.push(refs);
                }
                _ => {}
            }
        }

        // How many ports of each instance the body uses: compound overloads are chosen by it.
        let mut usage: HashMap<String, (u32, u32)> = HashMap::new();
        for (st, refs) in stmts
            .iter()
            .filter(|s| matches!(s, Statement::Chain(_)))
            .zip(&chain_refs)
        {
            let Statement::Chain(c) = st else { continue };
            for (k, arrow) in c.arrows.iter().enumerate() {
                let Ok(pairs) = compute_pairs(&c.sides[k], &c.sides[k + 1], arrow) else {
                    continue;
                };
                for ((li, lp), (ri, rp)) in pairs {
                    if let Some(EndpointRef::Named(n)) = &refs[k][li] {
                        let u = usage.entry(n.clone()).or_default();
                        u.1 = u.1.max(lp + 1);
                    }
                    if let Some(EndpointRef::Named(n)) = &refs[k + 1][ri] {
                        let u = usage.entry(n.clone()).or_default();
                        u.0 = u.0.max(rp + 1);
                    }
                }
            }
        }

        // Create the elements.
        let mut entries: HashMap<String, Entry> = HashMap::new();
        for inst in &instances {
            let full = format!("{prefix}{}", inst.local_name);
            let used = usage.get(&inst.local_name).copied().unwrap_or_default();
            let entry = self.instantiate(inst, &full, &scope, vars, used);
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
                let Some(pairs) = self.pair_slots(&c.sides[k], &c.sides[k + 1], arrow) else {
                    continue;
                };
                for ((li, lp), (ri, rp)) in pairs {
                    let (from_ep, to_ep) = (&c.sides[k][li], &c.sides[k + 1][ri]);
                    let from = refs[k][li].as_ref().and_then(|r| r.entry(&entries));
                    let to = refs[k + 1][ri].as_ref().and_then(|r| r.entry(&entries));
                    let (Some(from), Some(to)) = (from, to) else {
                        continue;
                    };
                    self.connect(from, from_ep, lp, to, to_ep, rp, arrow.span);
                }
            }
        }
    }

    /// Resolves one endpoint of a chain to the instance (or pseudo element) it names, creating an
    /// anonymous instance where the endpoint is one.
    #[allow(clippy::too_many_arguments)]
    fn endpoint_ref<'t>(
        &mut self,
        e: &'t Endpoint,
        declared: &HashMap<&str, Span>,
        by_name: &mut HashMap<String, usize>,
        instances: &mut Vec<Instance<'t>>,
        counter: &mut usize,
        in_compound: bool,
    ) -> Option<EndpointRef> {
        // Click's anonymous name: Class@N, N = elements so far + 1, bumped past names in use.
        let mut anon_name = |base: &str, by_name: &HashMap<String, usize>| {
            *counter += 1;
            let mut n = *counter;
            loop {
                let name = format!("{base}@{n}");
                if !by_name.contains_key(&name) && !declared.contains_key(name.as_str()) {
                    return name;
                }
                n += 1;
            }
        };
        match &e.element {
            ElementRef::Declared(d) => {
                *counter += 1;
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
                let base = match class {
                    ClassRef::Named(i) => i.name.as_str(),
                    ClassRef::Inline(_) => "",
                };
                let name = anon_name(base, by_name);
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
                if let Some(decl) = declared.get(id.name.as_str()) {
                    if decl.start > id.span.start && !by_name.contains_key(&id.name) {
                        let (f, l, c) = self.sources.location(*decl);
                        self.error(
                            format!("element '{}' is used before its declaration", id.name),
                            id.span,
                        )
                        .notes
                        .push(format!(
                            "declared later, at {f}:{l}:{c}; Click needs declarations first"
                        ));
                    }
                    Some(EndpointRef::Named(id.name.clone()))
                } else if in_compound && id.name == "input" {
                    Some(EndpointRef::Input)
                } else if in_compound && id.name == "output" {
                    Some(EndpointRef::Output)
                } else {
                    // A class used anonymously: `-> Discard`.
                    let name = anon_name(&id.name, by_name);
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
        }
    }

    /// [`compute_pairs`], reporting what is wrong at the arrow.
    fn pair_slots(
        &mut self,
        left: &[Endpoint],
        right: &[Endpoint],
        arrow: &Arrow,
    ) -> Option<Vec<SlotPair>> {
        match compute_pairs(left, right, arrow) {
            Ok(p) => Some(p),
            Err((msg, note)) => {
                let d = self.error(msg, arrow.span);
                if let Some(n) = note {
                    d.notes.push(n);
                }
                None
            }
        }
    }

    /// One connection between two resolved endpoints.
    #[allow(clippy::too_many_arguments)]
    fn connect(
        &mut self,
        from: Entry,
        from_ep: &Endpoint,
        from_port: u32,
        to: Entry,
        to_ep: &Endpoint,
        to_port: u32,
        arrow: Span,
    ) {
        let from_node = match from {
            Entry::Node { as_source, .. } => as_source,
            Entry::Input(t) => Node::TunnelIn(t),
            Entry::Output(_) => {
                self.error("'output' cannot be the source of a connection", from_ep.element.span())
                    .notes
                    .push("inside a compound element, 'output' is where packets leave: connect 'x -> output'".into());
                return;
            }
        };
        let to_node = match to {
            Entry::Node { as_dest, .. } => as_dest,
            Entry::Output(t) => Node::TunnelOut(t),
            Entry::Input(_) => {
                self.error("'input' cannot be the destination of a connection", to_ep.element.span())
                    .notes
                    .push("inside a compound element, 'input' is where packets arrive: connect 'input -> x'".into());
                return;
            }
        };
        if let Node::TunnelIn(t) = from_node {
            self.tunnels[t].ninputs = self.tunnels[t].ninputs.max(from_port + 1);
        }
        if let Node::TunnelOut(t) = to_node {
            self.tunnels[t].noutputs = self.tunnels[t].noutputs.max(to_port + 1);
        }
        let span = from_ep.element.span().to(to_ep.element.span()).to(arrow);
        self.conns.push(RawConnection {
            from: from_node,
            from_port,
            to: to_node,
            to_port,
            span,
        });
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
                // Compound ports are numbered without gaps: input 2 needs inputs 0 and 1.
                for ov in &c.overloads {
                    let (ins, outs) = overload_port_sets(ov);
                    for (dir, used) in [("input", &ins), ("output", &outs)] {
                        if let Some(missing) = (0..used.len() as u32).find(|p| !used.contains(p)) {
                            let top = used.last().copied().unwrap_or(0);
                            self.error(
                                format!(
                                    "compound class '{}' uses {dir} {top} but not {dir} {missing}",
                                    ec.name.name
                                ),
                                ov.span,
                            );
                        }
                    }
                }
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
        used_ports: (u32, u32),
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
            let class_span = match inst.class {
                InstanceClass::Ref(ClassRef::Named(id)) | InstanceClass::Bare(id) => Some(id.span),
                InstanceClass::Ref(ClassRef::Inline(_)) => None,
            };
            self.graph.elements.push(FlatElement {
                name: full.to_string(),
                class: class_name,
                config,
                span: inst.span,
                config_span,
                class_span,
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
        // The first overload that takes these arguments and has the ports the instance uses;
        // failing that, the first that takes the arguments (its port errors are then reported).
        let mut chosen = None;
        for (ov, def_scope) in overloads {
            if let Some(bound) = bind_formals(&ov.formals, &given) {
                let (nin, nout) = overload_ports(ov);
                let fits = nin >= used_ports.0 && nout >= used_ports.1;
                if fits || chosen.is_none() {
                    chosen = Some((*ov, def_scope.clone(), bound));
                }
                if fits {
                    break;
                }
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

/// Binds actual arguments to formals as Click does: the first P arguments go to the P positional
/// formals (even if they look like `KEYWORD value`); then each `KEYWORD value` whose keyword is a
/// keyword formal binds it; keyword formals are mandatory; whatever is left goes to a
/// `__REST__ $x` formal, or the overload does not match. `None` when they do not fit (so another
/// overload may be tried).
fn bind_formals(formals: &[Formal], given: &[args::RawArg]) -> Option<Vec<(String, String)>> {
    let positional: Vec<&Formal> = formals.iter().filter(|f| f.keyword.is_none()).collect();
    let rest = formals
        .iter()
        .find(|f| f.keyword.as_deref() == Some("__REST__"));
    let keywords: Vec<&Formal> = formals
        .iter()
        .filter(|f| f.keyword.as_deref().is_some_and(|k| k != "__REST__"))
        .collect();
    if given.len() < positional.len() {
        return None;
    }
    let mut out: Vec<(String, String)> = positional
        .iter()
        .zip(given)
        .map(|(f, a)| (f.name.name.clone(), a.text.clone()))
        .collect();
    let mut kw_vals: BTreeMap<&str, String> = BTreeMap::new();
    let mut extra = Vec::new();
    for a in &given[positional.len()..] {
        let (word, value) = a
            .text
            .split_once(char::is_whitespace)
            .map_or((a.text.as_str(), ""), |(w, v)| (w, v.trim_start()));
        match keywords.iter().find(|f| f.keyword.as_deref() == Some(word)) {
            Some(_) => {
                kw_vals.insert(word, value.to_string());
            }
            None => extra.push(a.text.clone()),
        }
    }
    for f in &keywords {
        let v = kw_vals.remove(f.keyword.as_deref().expect("keyword formal"))?;
        out.push((f.name.name.clone(), v));
    }
    match rest {
        Some(r) => out.push((r.name.name.clone(), extra.join(", "))),
        None if !extra.is_empty() => return None,
        None => {}
    }
    Some(out)
}

/// Which output slots meet which input slots across one arrow, as Click lays them out:
/// every port of every endpoint is a slot; one slot on a side fans out to (or in from) all
/// slots of the other; otherwise the slots pair up in order, which needs `=>`. An expandable
/// list (`[]`, `[1,]`) grows to match the other side. Returns (endpoint, port) pairs.
fn compute_pairs(
    left: &[Endpoint],
    right: &[Endpoint],
    arrow: &Arrow,
) -> Result<Vec<SlotPair>, (String, Option<String>)> {
    struct Side {
        fixed: Vec<(usize, u32)>,
        /// (insert position in `fixed`, endpoint, next port)
        expand: Option<(usize, usize, u32)>,
    }
    let layout =
        |side: &[Endpoint], outputs: bool, other_slots: usize| -> Result<Side, &'static str> {
            let mut fixed = Vec::new();
            let mut expand = None;
            if arrow.many_to_many && side.len() == 1 && other_slots > 1 {
                let spec = if outputs {
                    &side[0].output_ports
                } else {
                    &side[0].input_ports
                };
                if spec.is_none() {
                    return Ok(Side {
                        fixed,
                        expand: Some((0, 0, 0)),
                    });
                }
            }
            for (k, e) in side.iter().enumerate() {
                match if outputs {
                    &e.output_ports
                } else {
                    &e.input_ports
                } {
                    None => fixed.push((k, 0)),
                    Some(spec) => {
                        fixed.extend(spec.ports.iter().map(|p| (k, *p)));
                        if let Some(next) = spec.expandable {
                            if expand.is_some() {
                                return Err(
                                    "at most one expandable port list is allowed per connection",
                                );
                            }
                            expand = Some((fixed.len(), k, next));
                        }
                    }
                }
            }
            Ok(Side { fixed, expand })
        };
    let count = |side: &[Endpoint], outputs: bool| -> usize {
        side.iter()
            .map(|e| {
                match if outputs {
                    &e.output_ports
                } else {
                    &e.input_ports
                } {
                    None => 1,
                    Some(s) => s.ports.len().max(1),
                }
            })
            .sum()
    };
    let (nl0, nr0) = (count(left, true), count(right, false));
    let sides = layout(left, true, nr0).and_then(|l| layout(right, false, nl0).map(|r| (l, r)));
    let (mut l, mut r) = sides.map_err(|m| (String::from(m), None))?;
    if l.expand.is_some() && r.expand.is_some() {
        return Err((
            "at most one expandable port list is allowed per connection".into(),
            None,
        ));
    }
    let (lnum, rnum) = (l.fixed.len(), r.fixed.len());
    for (me, other) in [(&mut l, rnum), (&mut r, lnum)] {
        if let Some((pos, k, next)) = me.expand {
            let need = other.saturating_sub(me.fixed.len());
            let extra: Vec<(usize, u32)> = (0..need as u32).map(|d| (k, next + d)).collect();
            me.fixed.splice(pos..pos, extra);
        }
    }
    let (nl, nr) = (l.fixed.len(), r.fixed.len());
    let mut pairs = Vec::new();
    if nl > 1 && nr > 1 {
        if !arrow.many_to_many {
            return Err((
                "many-to-many connections require '=>'".into(),
                Some(format!(
                    "{nl} outputs on the left, {nr} inputs on the right"
                )),
            ));
        }
        if nl != nr {
            return Err((
                format!("connection mismatch: {nl} outputs connected to {nr} inputs"),
                None,
            ));
        }
        pairs.extend(l.fixed.into_iter().zip(r.fixed));
    } else if nl == 1 {
        pairs.extend(r.fixed.into_iter().map(|x| (l.fixed[0], x)));
    } else if nr == 1 {
        pairs.extend(l.fixed.into_iter().map(|x| (x, r.fixed[0])));
    }
    Ok(pairs)
}

/// An (endpoint, port) on the left of an arrow and the one it connects to on the right.
type SlotPair = ((usize, u32), (usize, u32));

/// How many inputs and outputs an overload's body uses (`input [k]`, `[k] output`).
fn overload_ports(ov: &Overload) -> (u32, u32) {
    let (ins, outs) = overload_port_sets(ov);
    (
        ins.last().map_or(0, |p| p + 1),
        outs.last().map_or(0, |p| p + 1),
    )
}

/// The input and output port numbers an overload's body uses.
fn overload_port_sets(
    ov: &Overload,
) -> (
    alloc::collections::BTreeSet<u32>,
    alloc::collections::BTreeSet<u32>,
) {
    let (mut nin, mut nout) = (
        alloc::collections::BTreeSet::new(),
        alloc::collections::BTreeSet::new(),
    );
    for st in &ov.body {
        let Statement::Chain(c) = st else { continue };
        for (k, arrow) in c.arrows.iter().enumerate() {
            let Ok(pairs) = compute_pairs(&c.sides[k], &c.sides[k + 1], arrow) else {
                continue;
            };
            for ((li, lp), (ri, rp)) in pairs {
                if matches!(&c.sides[k][li].element, ElementRef::Name(n) if n.name == "input") {
                    nin.insert(lp);
                }
                if matches!(&c.sides[k + 1][ri].element, ElementRef::Name(n) if n.name == "output")
                {
                    nout.insert(rp);
                }
            }
        }
    }
    (nin, nout)
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
