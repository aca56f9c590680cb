//! The ring benchmark's process machinery works: children start, exchange frames over shared
//! memory through the production ring and switch, and stop. No timing is asserted.

use std::process::Command;

#[test]
fn ring_benchmark_runs_every_path_briefly() {
    let out = Command::new(env!("CARGO_BIN_EXE_ring"))
        .args([
            "--quick",
            "--only",
            "abd",
            "--duration-ms",
            "20",
            "--no-save",
        ])
        .output()
        .expect("run ring");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for path in [
        "(a) producer -> consumer",
        "(b) guest -> switch -> guest",
        "(d) switch core alone",
    ] {
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(&format!("| {path}")))
            .collect();
        assert!(!rows.is_empty(), "no {path} rows:\n{text}");
        for r in rows {
            assert!(!r.contains("failed"), "{r}");
        }
    }
}
