//! Property tests: parse → flatten → print → parse gives the same graph, and the parser never
//! panics, whatever it is given.

use config_lang::load;
use proptest::prelude::*;

const CLASSES: &[&str] = &[
    "Counter",
    "Queue",
    "Null",
    "Tee",
    "Classifier",
    "Print",
    "Discard",
    "Paint",
];
const CONFIGS: &[&str] = &[
    "",
    "12",
    "LIMIT 5, STOP true",
    "\"a, (b)\"",
    "12/0800, -",
    "\\<0a 0b>",
    "'x)'",
    "f(1, 2), g",
    "allow src host 10.0.0.1 && dst port 53, deny all",
    "$V",
];

#[derive(Debug, Clone)]
struct Elem {
    class: usize,
    config: usize,
    anonymous: bool,
}

#[derive(Debug, Clone)]
struct Conn {
    from: usize,
    from_port: u32,
    to: usize,
    to_port: u32,
}

fn elem() -> impl Strategy<Value = Elem> {
    (
        0..CLASSES.len(),
        0..CONFIGS.len(),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(class, config, anonymous)| Elem {
            class,
            config,
            anonymous,
        })
}

fn config_text(elems: &[Elem], conns: &[Conn], compound: bool, semicolons: bool) -> String {
    let mut s = String::from("define($V 42)\n");
    if compound {
        s.push_str("elementclass Wrap { $x | input -> q :: Queue($x) -> Null -> output || input -> output }\n");
    }
    let end = if semicolons { ";\n" } else { "\n" };
    // Declared elements first; anonymous ones appear inline in their first connection, or alone.
    let mut placed = vec![false; elems.len()];
    for (i, e) in elems.iter().enumerate() {
        if !e.anonymous {
            let cfg = CONFIGS[e.config];
            if cfg.is_empty() {
                s.push_str(&format!("e{i} :: {}{end}", CLASSES[e.class]));
            } else {
                s.push_str(&format!("e{i} :: {}({cfg}){end}", CLASSES[e.class]));
            }
            placed[i] = true;
        }
    }
    let refer = |i: usize, placed: &mut Vec<bool>| -> String {
        let e = &elems[i];
        if placed[i] {
            format!("e{i}")
        } else {
            placed[i] = true;
            let cfg = CONFIGS[e.config];
            format!("e{i} :: {}({cfg})", CLASSES[e.class])
        }
    };
    for c in conns {
        let a = refer(c.from, &mut placed);
        let b = refer(c.to, &mut placed);
        s.push_str(&format!(
            "{a} [{}] -> [{}] {b}{end}",
            c.from_port, c.to_port
        ));
    }
    for i in 0..elems.len() {
        if !placed[i] {
            // A truly anonymous element standing alone.
            s.push_str(&format!(
                "{}({}){end}",
                CLASSES[elems[i].class], CONFIGS[elems[i].config]
            ));
        }
    }
    if compound && !elems.is_empty() {
        s.push_str(&format!(
            "e0 -> w1 :: Wrap(7) -> Discard{end}Idle -> Wrap -> [1] e0{end}"
        ));
    }
    s
}

fn graph_case() -> impl Strategy<Value = (Vec<Elem>, Vec<Conn>, bool, bool)> {
    prop::collection::vec(elem(), 1..10).prop_flat_map(|elems| {
        let n = elems.len();
        let conn = (0..n, 0u32..3, 0..n, 0u32..3).prop_map(|(from, from_port, to, to_port)| Conn {
            from,
            from_port,
            to,
            to_port,
        });
        (
            Just(elems),
            prop::collection::vec(conn, 0..15),
            any::<bool>(),
            any::<bool>(),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn print_then_parse_gives_the_same_graph((elems, conns, compound, semis) in graph_case()) {
        let text = config_text(&elems, &conns, compound, semis);
        let first = load("gen.click", &text, &[]);
        prop_assert!(!first.has_errors(), "generated config rejected:\n{}\n{}", text, first.render_diagnostics());
        let g1 = first.graph.unwrap();
        let printed = g1.to_click();
        let second = load("flat.click", &printed, &[]);
        prop_assert!(!second.has_errors(), "printed config rejected:\n{}\n{}", printed, second.render_diagnostics());
        let g2 = second.graph.unwrap();
        prop_assert_eq!(g1.canonical(), g2.canonical());
        // Printing is a fixed point after one flattening.
        prop_assert_eq!(g2.to_click(), printed);
    }

    #[test]
    fn never_panics_on_arbitrary_text(s in "\\PC{0,200}") {
        let _ = load("any.click", &s, &[]);
    }

    #[test]
    fn never_panics_on_click_like_text(s in "([a-z]{1,3}|::|->|\\[[0-9x]\\]|[(){}|;,$\"'/*#\\\\<> \n]|elementclass|input|output|define|require){0,40}") {
        let l = load("tok.click", &s, &[]);
        // Every error points inside the file.
        for d in &l.diagnostics {
            if let Some(sp) = d.span {
                prop_assert!(sp.end as usize <= s.len());
                let _ = d.render(&l.sources);
            }
        }
    }
}
