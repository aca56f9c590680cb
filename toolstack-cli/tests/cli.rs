//! End-to-end tests of the `clickos-cli` binary: exit statuses, diagnostics, pipes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const CLI: &str = env!("CARGO_BIN_EXE_clickos-cli");
const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(CLI)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run clickos-cli");
    if let Some(data) = stdin {
        child.stdin.take().unwrap().write_all(data).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn check_accepts_the_example_firewall() {
    let out = run(&["check", &format!("{EXAMPLES}/fw.click")], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("ok (9 elements"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn check_reports_every_error_with_line_and_column() {
    let out = run(&["check", &format!("{EXAMPLES}/broken.click")], None);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("broken.click:3:20"), "{err}");
    assert!(err.contains("broken.click:4:5"), "{err}");
    assert!(err.contains("^"), "{err}");
    assert!(err.contains("due to 2 previous errors"), "{err}");
}

#[test]
fn flatten_output_checks_again() {
    let flat = run(&["flatten", &format!("{EXAMPLES}/fw.click")], None);
    assert!(flat.status.success());
    let again = run(&["check", "-"], Some(&flat.stdout));
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(text(&again.stdout).starts_with("<stdin>: ok (9 elements"));
    // and flattening the flat text changes nothing
    let twice = run(&["flatten", "-"], Some(&flat.stdout));
    assert_eq!(text(&twice.stdout), text(&flat.stdout));
}

#[test]
fn defines_can_be_overridden() {
    let out = run(
        &["flatten", "-", "N=7"],
        Some(b"define($N 1); Idle -> Queue($N) -> Discard;"),
    );
    assert!(
        text(&out.stdout).contains("Queue(7)"),
        "{}",
        text(&out.stdout)
    );
    let bad = run(&["flatten", "-", "N"], Some(b"Idle -> Discard;"));
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn graph_renders_with_graphviz() {
    let dot = run(&["graph", &format!("{EXAMPLES}/fw.click")], None);
    assert!(dot.status.success());
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("graphviz 'dot' is needed by this test: run `make deps`");
    child.stdin.take().unwrap().write_all(&dot.stdout).unwrap();
    let svg = child.wait_with_output().unwrap();
    assert!(svg.status.success(), "dot failed: {}", text(&svg.stderr));
    let svg = text(&svg.stdout);
    assert!(svg.contains("<svg") && svg.contains("fw/filter"), "{svg}");
}

#[test]
fn missing_file_is_an_io_error() {
    let out = run(&["check", "/nonexistent/x.click"], None);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("/nonexistent/x.click"));
}

#[test]
fn every_corpus_configuration_checks_against_the_element_library() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../config-lang/tests/corpus");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("click") {
            continue;
        }
        let out = run(&["check", path.to_str().unwrap()], None);
        assert!(
            out.status.success(),
            "{}:\n{}",
            path.display(),
            text(&out.stderr)
        );
        n += 1;
    }
    assert!(n >= 10);
}

#[test]
fn unknown_classes_are_found_where_click_finds_them() {
    let f = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../config-lang/tests/errors/undeclared-class.click"
    );
    let out = run(&["check", f], None);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("undeclared-class.click:8:6"), "{err}");
    assert!(err.contains("unknown element class 'Frobnicator'"), "{err}");
}

#[test]
fn bad_arguments_are_shown_with_a_caret_under_them() {
    let out = run(
        &["check", "-"],
        Some(b"InfiniteSource(LIMIT many) -> Discard;"),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("<stdin>:1:22"), "{err}");
    assert!(err.contains("argument LIMIT: expected an integer"), "{err}");
    assert!(err.contains("^^^^"), "{err}");
}
