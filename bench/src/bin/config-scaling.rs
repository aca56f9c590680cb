//! Parse + flatten time of generated configurations of 100 … 100 000 elements.
//!
//! Each block of five elements is a chain through a compound element with a formal parameter, so
//! the run exercises declarations, anonymous naming, compound expansion, parameter substitution
//! and connection resolution. The cost should grow linearly: the report gives the time per
//! element and its ratio to the 1 000-element run measured in the same process.

use clickos_bench::{best_of, Table};

fn generate(elements: usize) -> String {
    let mut s = String::from(
        "// generated\ndefine($QLEN 100)\nelementclass Stage { $color | input -> Paint($color) -> Counter -> output }\n",
    );
    for i in 0..elements / 5 {
        s.push_str(&format!(
            "src{i} :: InfiniteSource(LENGTH 60, LIMIT 10, STOP true) -> Stage({}) -> q{i} :: Queue($QLEN) -> Discard;\n",
            i % 256
        ));
    }
    s
}

fn main() {
    // `config-scaling N` loads one size once (for instruction counting under callgrind).
    if let Some(n) = std::env::args().nth(1) {
        let n: usize = n.parse().expect("element count");
        let text = generate(n);
        let loaded = config_lang::load("gen.click", &text, &[]);
        assert_eq!(loaded.graph.expect("valid").elements.len(), n);
        return;
    }
    let sizes = [100usize, 1_000, 10_000, 100_000];
    let mut measured = Vec::new();
    for &n in &sizes {
        let text = generate(n);
        let reps = if n >= 100_000 {
            3
        } else if n >= 10_000 {
            5
        } else {
            30
        };
        let (t, loaded) = best_of(reps, || config_lang::load("gen.click", &text, &[]));
        assert!(!loaded.has_errors(), "{}", loaded.render_diagnostics());
        let g = loaded.graph.expect("valid");
        assert_eq!(g.elements.len(), n);
        measured.push((n, text.len(), g.connections.len(), t));
    }
    let base = measured
        .iter()
        .find(|m| m.0 == 1_000)
        .map(|m| m.3.as_nanos() as f64 / 1_000.0)
        .expect("1000 measured");
    let mut table = Table::new(&[
        "elements",
        "bytes",
        "connections",
        "parse+flatten ms",
        "ns/element",
        "ratio to 1k",
    ]);
    for (n, bytes, conns, t) in &measured {
        let per = t.as_nanos() as f64 / *n as f64;
        table.row(vec![
            n.to_string(),
            bytes.to_string(),
            conns.to_string(),
            format!("{:.3}", t.as_secs_f64() * 1e3),
            format!("{per:.0}"),
            format!("{:.2}", per / base),
        ]);
    }
    println!("Click configuration parse + flatten (best of several runs)\n");
    print!("{}", table.markdown());
    if let Err(e) = table.save("config-scaling") {
        eprintln!("could not save results: {e}");
    }
}
