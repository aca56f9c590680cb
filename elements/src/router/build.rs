//! Building a router from a flat graph: classes, port counts, push/pull resolution, configuration,
//! initialization. Every problem becomes a diagnostic pointing at the element or the connection.

use alloc::boxed::Box;
use alloc::collections::BinaryHeap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cmp::Reverse;

use config_lang::args::Args;
use config_lang::diag::closest;
use config_lang::{Diagnostic, FlatGraph, Span};

use super::{Core, ElementInfo, Router, Task, Topology};
use crate::element::{ConfigureContext, Element, ElementClass, InitContext, Registry};
use crate::packet::PacketPool;
use crate::platform::Platform;
use crate::spec::{parse_ports, parse_processing, Processing};

/// Why a router could not be built: the diagnostics, all of them.
#[derive(Debug)]
pub struct BuildError {
    pub diagnostics: Vec<Diagnostic>,
}

/// Checks and instantiates `graph`. With `platform` = None, stops after configuration (what
/// `clickos-cli check` does: no devices or files are opened).
pub fn build(
    graph: &FlatGraph,
    registry: &Registry,
    platform: Option<Box<dyn Platform>>,
    source_config: &str,
) -> Result<Router, BuildError> {
    let mut diags = Vec::new();
    let n = graph.elements.len();

    // Classes.
    let mut classes: Vec<Option<ElementClass>> = Vec::with_capacity(n);
    for e in &graph.elements {
        match registry.get(&e.class) {
            Some(c) => classes.push(Some(*c)),
            None => {
                let mut d = Diagnostic::error(
                    format!("unknown element class '{}'", e.class),
                    Some(e.class_span.unwrap_or(e.span)),
                );
                if let Some(s) = closest(&e.class, registry.names()) {
                    d = d.with_note(format!("did you mean '{s}'?"));
                }
                diags.push(d);
                classes.push(None);
            }
        }
    }

    // Port counts from the connections, checked against each class's spec.
    let mut nin = alloc::vec![0usize; n];
    let mut nout = alloc::vec![0usize; n];
    for c in &graph.connections {
        nout[c.from] = nout[c.from].max(c.from_port as usize + 1);
        nin[c.to] = nin[c.to].max(c.to_port as usize + 1);
    }
    for (i, e) in graph.elements.iter().enumerate() {
        let Some(class) = classes[i] else { continue };
        let (ir, or) = parse_ports(class.ports).expect("registry port specs are valid");
        let bad_ports = |dir: &str, used: usize, range: &crate::spec::PortRange| {
            Diagnostic::error(
                format!(
                    "'{}' :: {} has {} {dir} port{}, but {dir} {} is connected",
                    e.name,
                    e.class,
                    range.describe(),
                    if range.max == Some(1) { "" } else { "s" },
                    used - 1
                ),
                Some(e.span),
            )
        };
        if ir.max.is_some_and(|m| nin[i] > m) {
            diags.push(bad_ports("input", nin[i], &ir));
        }
        nin[i] = nin[i].max(ir.min);
        if or.same_as_inputs {
            nout[i] = nout[i].max(nin[i]);
        } else {
            if or.max.is_some_and(|m| nout[i] > m) {
                diags.push(bad_ports("output", nout[i], &or));
            }
            nout[i] = nout[i].max(or.min);
        }
    }

    // Topology, and ports left unconnected.
    let mut topo = Topology {
        outputs: (0..n).map(|i| alloc::vec![Vec::new(); nout[i]]).collect(),
        inputs: (0..n).map(|i| alloc::vec![Vec::new(); nin[i]]).collect(),
    };
    for c in &graph.connections {
        if let Some(v) = topo.outputs[c.from].get_mut(c.from_port as usize) {
            v.push((c.to, c.to_port as usize));
        }
        if let Some(v) = topo.inputs[c.to].get_mut(c.to_port as usize) {
            v.push((c.from, c.from_port as usize));
        }
    }
    for (i, e) in graph.elements.iter().enumerate() {
        if classes[i].is_none() {
            continue;
        }
        for (dir, ports) in [("input", &topo.inputs[i]), ("output", &topo.outputs[i])] {
            for (p, conns) in ports.iter().enumerate() {
                if conns.is_empty() {
                    diags.push(Diagnostic::error(
                        format!("'{}' :: {} {dir} {p} is not connected", e.name, e.class),
                        Some(e.span),
                    ));
                }
            }
        }
    }
    if !diags.is_empty() {
        return Err(BuildError { diagnostics: diags });
    }
    let classes: Vec<ElementClass> = classes.into_iter().map(|c| c.expect("checked")).collect();

    // Push/pull resolution.
    let (input_push, output_push) = resolve_processing(graph, &classes, &nin, &nout, &mut diags);

    // Instantiate and configure.
    let mut slots: Vec<Option<Box<dyn Element>>> = Vec::with_capacity(n);
    let mut info = Vec::with_capacity(n);
    for (i, e) in graph.elements.iter().enumerate() {
        let class = classes[i];
        let mut el = (class.make)();
        let cx = ConfigureContext {
            name: &e.name,
            ninputs: nin[i],
            noutputs: nout[i],
            graph: Some(graph),
        };
        let mut args = Args::new(&e.config);
        let result = el.configure(&mut args, &cx).and_then(|()| args.complete());
        if let Err(err) = result {
            let span = match (e.config_span, &err.range) {
                (Some(cs), Some(r)) => cs.sub(r.start, r.end),
                (Some(cs), None) => cs,
                (None, _) => e.span,
            };
            let mut d =
                Diagnostic::error(format!("'{}' :: {}: {err}", e.name, e.class), Some(span));
            if let Some(note) = err.note {
                d = d.with_note(note);
            }
            diags.push(d);
        }
        let (decl_in, decl_out) = parse_processing(class.processing, nin[i], nout[i]);
        let _ = decl_in;
        // Pull outputs declared as such are served by the element's own `pull`; so are a
        // source's agnostic outputs, since there is no input to adapt from.
        let (inputs_allowed, _) = parse_ports(class.ports).expect("valid");
        let native_pull = decl_out.contains(&Processing::Pull) || inputs_allowed.max == Some(0);
        slots.push(Some(el));
        info.push(ElementInfo {
            name: e.name.clone(),
            class: class.name,
            config: e.config.clone(),
            ninputs: nin[i],
            noutputs: nout[i],
            input_push: input_push[i].clone(),
            output_push: output_push[i].clone(),
            native_pull,
        });
    }
    if !diags.is_empty() {
        return Err(BuildError { diagnostics: diags });
    }

    let check_only = platform.is_none();
    let platform: Box<dyn Platform> =
        platform.unwrap_or_else(|| Box::new(crate::platform::TestPlatform::default()));
    let core = Core {
        pool: PacketPool::default(),
        spare: Vec::new(),
        work: Vec::new(),
        tasks: Vec::new(),
        task_of: alloc::vec![None; n],
        timers: BinaryHeap::new(),
        stopped: false,
        platform,
        dropped_unconnected: 0,
    };
    let mut router = Router {
        slots,
        info,
        topo,
        core,
        flat_config: graph.to_click(),
        source_config: source_config.to_string(),
        next_task: 0,
    };
    if !check_only {
        initialize(&mut router, graph)?;
    }
    Ok(router)
}

/// Runs every element's `initialize` in order, giving out tasks and timers.
fn initialize(r: &mut Router, graph: &FlatGraph) -> Result<(), BuildError> {
    let mut diags = Vec::new();
    for e in 0..r.slots.len() {
        let mut el = r.slots[e].take().expect("all present before running");
        let mut icx = InitContext {
            name: &r.info[e].name,
            want_task: false,
            task_active: false,
            timer_at: None,
            platform: &mut *r.core.platform,
            output_push: &r.info[e].output_push,
            input_push: &r.info[e].input_push,
        };
        let result = el.initialize(&mut icx);
        let (want_task, active, timer) = (icx.want_task, icx.task_active, icx.timer_at);
        r.slots[e] = Some(el);
        if let Err(why) = result {
            let el = &graph.elements[e];
            diags.push(Diagnostic::error(
                format!("'{}' :: {}: {why}", el.name, el.class),
                Some(el.span),
            ));
            continue;
        }
        if want_task {
            r.core.task_of[e] = Some(r.core.tasks.len());
            r.core.tasks.push(Task {
                element: e,
                scheduled: active,
            });
        }
        if let Some(at) = timer {
            r.core.timers.push(Reverse((at, e, false)));
        }
    }
    if diags.is_empty() {
        Ok(())
    } else {
        Err(BuildError { diagnostics: diags })
    }
}

/// Click's rules: connected ports must agree (push to push, pull to pull); the agnostic ports of
/// an element all take the same processing; what nothing constrains is push.
fn resolve_processing(
    graph: &FlatGraph,
    classes: &[ElementClass],
    nin: &[usize],
    nout: &[usize],
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Vec<bool>>, Vec<Vec<bool>>) {
    // Union-find over "processing variables": one per agnostic element, one per fixed port.
    let n = graph.elements.len();
    let mut parent: Vec<usize> = Vec::new();
    let mut value: Vec<Option<bool>> = Vec::new(); // Some(true) = push
    let new_var = |v: Option<bool>, parent: &mut Vec<usize>, value: &mut Vec<Option<bool>>| {
        parent.push(parent.len());
        value.push(v);
        parent.len() - 1
    };
    let mut in_var: Vec<Vec<usize>> = Vec::with_capacity(n);
    let mut out_var: Vec<Vec<usize>> = Vec::with_capacity(n);
    for i in 0..n {
        let (di, dout) = parse_processing(classes[i].processing, nin[i], nout[i]);
        let agn = new_var(None, &mut parent, &mut value);
        let var_for =
            |p: Processing, parent: &mut Vec<usize>, value: &mut Vec<Option<bool>>| match p {
                Processing::Agnostic => agn,
                Processing::Push => new_var(Some(true), parent, value),
                Processing::Pull => new_var(Some(false), parent, value),
            };
        in_var.push(
            di.into_iter()
                .map(|p| var_for(p, &mut parent, &mut value))
                .collect(),
        );
        out_var.push(
            dout.into_iter()
                .map(|p| var_for(p, &mut parent, &mut value))
                .collect(),
        );
    }
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let word = |push: bool| if push { "push" } else { "pull" };
    for c in &graph.connections {
        let a = find(&mut parent, out_var[c.from][c.from_port as usize]);
        let b = find(&mut parent, in_var[c.to][c.to_port as usize]);
        if a == b {
            continue;
        }
        match (value[a], value[b]) {
            (Some(x), Some(y)) if x != y => {
                let (f, t) = (&graph.elements[c.from], &graph.elements[c.to]);
                diags.push(
                    Diagnostic::error(
                        format!(
                            "'{}' {} output {} is connected to '{}' {} input {}",
                            f.name, word(x), c.from_port, t.name, word(y), c.to_port
                        ),
                        Some(c.span),
                    )
                    .with_note("push outputs must connect to push inputs, and pull to pull: put a Queue between push and pull"),
                );
            }
            (va, vb) => {
                parent[b] = a;
                value[a] = va.or(vb);
            }
        }
    }
    // Each push output feeds exactly one input; each pull input takes from exactly one output.
    let mut fan: hashbrown::HashMap<(bool, usize, u32), Span> = hashbrown::HashMap::new();
    let resolved = |v: usize, parent: &mut Vec<usize>| value[find(parent, v)].unwrap_or(true);
    let mut input_push = Vec::with_capacity(n);
    let mut output_push = Vec::with_capacity(n);
    for i in 0..n {
        input_push.push(
            in_var[i]
                .iter()
                .map(|&v| resolved(v, &mut parent))
                .collect::<Vec<_>>(),
        );
        output_push.push(
            out_var[i]
                .iter()
                .map(|&v| resolved(v, &mut parent))
                .collect::<Vec<_>>(),
        );
    }
    for c in &graph.connections {
        if output_push[c.from][c.from_port as usize] {
            if let Some(_prev) = fan.insert((true, c.from, c.from_port), c.span) {
                diags.push(
                    Diagnostic::error(
                        format!(
                            "'{}' push output {} is connected more than once",
                            graph.elements[c.from].name, c.from_port
                        ),
                        Some(c.span),
                    )
                    .with_note(
                        "a push output sends each packet to one place: use Tee to copy packets",
                    ),
                );
            }
        } else if let Some(_prev) = fan.insert((false, c.to, c.to_port), c.span) {
            diags.push(Diagnostic::error(
                format!("'{}' pull input {} is connected more than once", graph.elements[c.to].name, c.to_port),
                Some(c.span),
            ).with_note("a pull input takes packets from one place: use a scheduler such as RoundRobinSched"));
        }
    }
    (input_push, output_push)
}

/// Text for the `ports` handler: one line per port with its processing and peers.
pub(crate) fn ports_text(r: &Router, e: usize) -> String {
    let i = &r.info[e];
    let mut s = String::new();
    let peers = |v: &Vec<(usize, usize)>| {
        v.iter()
            .map(|(x, p)| format!("{}[{}]", r.info[*x].name, p))
            .collect::<Vec<_>>()
            .join(", ")
    };
    s += &format!(
        "{} input{}\n",
        i.ninputs,
        if i.ninputs == 1 { "" } else { "s" }
    );
    for (p, push) in i.input_push.iter().enumerate() {
        s += &format!(
            "{}\t{}\n",
            if *push { "push" } else { "pull" },
            peers(&r.topo.inputs[e][p])
        );
    }
    s += &format!(
        "{} output{}\n",
        i.noutputs,
        if i.noutputs == 1 { "" } else { "s" }
    );
    for (p, push) in i.output_push.iter().enumerate() {
        s += &format!(
            "{}\t{}\n",
            if *push { "push" } else { "pull" },
            peers(&r.topo.outputs[e][p])
        );
    }
    s
}
