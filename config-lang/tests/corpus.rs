//! The team's corpus of realistic configurations must load, and print back to an equivalent
//! graph; every deliberately broken configuration must be rejected at the right line and column.

use std::path::Path;

use config_lang::load;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_corpus_configuration_loads_and_round_trips() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("click") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let loaded = load(&name, &read(&path), &[]);
        assert!(
            !loaded.has_errors(),
            "{name}:\n{}",
            loaded.render_diagnostics()
        );
        let g = loaded.graph.unwrap();
        assert!(
            g.elements.len() >= 10,
            "{name} is a realistic configuration"
        );
        let printed = g.to_click();
        let again = load("printed.click", &printed, &[]);
        assert!(
            !again.has_errors(),
            "{name} printed:\n{printed}\n{}",
            again.render_diagnostics()
        );
        assert_eq!(g.canonical(), again.graph.unwrap().canonical(), "{name}");
        n += 1;
    }
    assert!(n >= 10, "only {n} corpus files");
}

/// (file, line:col of the first error, words of its message). Positions are those Click reports
/// (see tests/errors/EXPECTED.md); where Click reports at end of file, ClickOS-rs points at the
/// construct that never ends instead.
const EXPECTED: &[(&str, &str, &str)] = &[
    (
        "missing-arrow-target",
        "7:15",
        "expected an element after '->'",
    ),
    ("unterminated-comment", "8:21", "unterminated comment"),
    ("unbalanced-paren", "6:18", "unclosed '('"),
    ("bad-port", "7:6", "expected a port number"),
    ("compound-missing-brace", "7:21", "unclosed '{'"),
    ("two-errors", "7:8", "expected an element after '->'"),
    ("unterminated-string", "6:14", "unterminated string"),
    (
        "redeclared-element",
        "8:1",
        "redeclaration of element 'cnt'",
    ),
    (
        "many-to-many-arrow",
        "7:12",
        "many-to-many connections require '=>'",
    ),
    ("hash-comment", "5:1", "unknown preprocessor directive"),
    ("use-before-declare", "7:19", "used before its declaration"),
    ("missing-class", "5:9", "expected a class name after '::'"),
    ("bad-define", "4:8", "define: expected '$NAME value'"),
    ("compound-port-gap", "7:5", "uses input 2 but not input 1"),
    (
        "variable-as-element",
        "8:9",
        "expected an element after '->'",
    ),
];

#[test]
fn broken_configurations_are_rejected_where_click_rejects_them() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/errors");
    for (file, at, words) in EXPECTED {
        let name = format!("{file}.click");
        let loaded = load(&name, &read(&dir.join(&name)), &[]);
        let first = loaded
            .diagnostics
            .iter()
            .find(|d| d.is_error())
            .unwrap_or_else(|| panic!("{name} was accepted"));
        let line = first.one_line(&loaded.sources);
        assert!(
            line.starts_with(&format!("{name}:{at}: error: ")),
            "{name}: expected at {at}, got: {line}"
        );
        assert!(
            line.contains(words),
            "{name}: expected '{words}', got: {line}"
        );
        // Rendered with a caret under the place.
        assert!(first.render(&loaded.sources).contains('^'));
    }
}

#[test]
fn two_independent_errors_are_both_reported() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/errors");
    let loaded = load(
        "two-errors.click",
        &read(&dir.join("two-errors.click")),
        &[],
    );
    let lines: Vec<String> = loaded
        .diagnostics
        .iter()
        .map(|d| d.one_line(&loaded.sources))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[1].starts_with("two-errors.click:12:5: error: expected a port number"),
        "{lines:?}"
    );
}

#[test]
fn element_groups_are_refused_clearly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/unsupported");
    let loaded = load("groups.click", &read(&dir.join("groups.click")), &[]);
    let first = loaded.diagnostics[0].one_line(&loaded.sources);
    assert!(
        first.starts_with("groups.click:4:44: error: element groups"),
        "{first}"
    );
}
