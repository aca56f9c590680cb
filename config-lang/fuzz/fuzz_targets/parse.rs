//! Any bytes through parse + flatten + print: no panic, and whatever loads must print to text
//! that loads to the same graph.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let loaded = config_lang::load("fuzz.click", text, &[]);
    for d in &loaded.diagnostics {
        let _ = d.render(&loaded.sources);
    }
    if let Some(g) = loaded.graph {
        let printed = g.to_click();
        let again = config_lang::load("printed.click", &printed, &[]);
        if again.has_errors() {
            panic!("printed graph rejected:\n{printed}\n{}", again.render_diagnostics());
        }
        let g2 = again.graph.expect("no errors");
        assert_eq!(g.canonical(), g2.canonical());
        let _ = g.to_dot();
    }
});
