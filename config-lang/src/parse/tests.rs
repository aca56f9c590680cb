use super::*;
use alloc::string::String;

fn parse_ok(text: &str) -> ConfigFile {
    let (sm, f, d) = parse_str("t.click", text);
    assert!(
        d.is_empty(),
        "unexpected errors:\n{}",
        crate::diag::render_all(&d, &sm)
    );
    f
}

fn errors(text: &str) -> Vec<String> {
    let (sm, _f, d) = parse_str("t.click", text);
    d.iter().map(|d| d.one_line(&sm)).collect()
}

#[test]
fn declarations_and_chains() {
    let f = parse_ok("src :: InfiniteSource(LIMIT 5); a, b :: Counter\nsrc -> a -> Discard;");
    assert_eq!(f.statements.len(), 3);
    match &f.statements[1] {
        Statement::Declaration(d) => {
            assert_eq!(
                d.names.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(),
                ["a", "b"]
            );
        }
        other => panic!("{other:?}"),
    }
    match &f.statements[2] {
        Statement::Chain(c) => assert_eq!(c.sides.len(), 3),
        other => panic!("{other:?}"),
    }
}

#[test]
fn ports_on_both_sides_and_inline_declarations() {
    let f = parse_ok("c :: Classifier(12/0800, -); c [1] -> [0] q :: Queue(100) -> Discard;");
    let Statement::Chain(ch) = &f.statements[1] else {
        panic!()
    };
    assert_eq!(
        ch.sides[0][0].output_ports.as_ref().unwrap().as_single(),
        Some(1)
    );
    assert_eq!(
        ch.sides[1][0].input_ports.as_ref().unwrap().as_single(),
        Some(0)
    );
    assert!(matches!(ch.sides[1][0].element, ElementRef::Declared(_)));
}

#[test]
fn config_strings_keep_their_text() {
    let f = parse_ok(r#"p :: Print("a, (b)", MAXLENGTH 4) // x"#);
    let Statement::Declaration(d) = &f.statements[0] else {
        panic!()
    };
    assert_eq!(d.config.as_ref().unwrap().text, r#""a, (b)", MAXLENGTH 4"#);
}

#[test]
fn compound_classes_with_formals_and_overloads() {
    let f = parse_ok(
        "elementclass Shaper { $rate, BURST $b | input -> BandwidthShaper($rate) -> output || input -> output }\n\
         x :: Shaper(1Mbps, BURST 3);",
    );
    let Statement::ElementClass(ec) = &f.statements[0] else {
        panic!()
    };
    let ClassBody::Compound(c) = &ec.body else {
        panic!()
    };
    assert_eq!(c.overloads.len(), 2);
    assert_eq!(c.overloads[0].formals.len(), 2);
    assert_eq!(c.overloads[0].formals[1].keyword.as_deref(), Some("BURST"));
    assert_eq!(c.overloads[1].formals.len(), 0);
}

#[test]
fn inline_compounds_and_synonyms() {
    parse_ok("elementclass Drop Discard; a :: { input -> Counter -> output }; Idle -> a -> { input -> output } -> Discard");
}

#[test]
fn define_and_require() {
    let f =
        parse_ok("define($DEV eth0, $N 10); require(package clickos)\nFromDevice($DEV) -> Discard");
    assert!(matches!(f.statements[0], Statement::Define(_)));
    assert!(matches!(f.statements[1], Statement::Require(_)));
}

#[test]
fn semicolons_are_optional_between_statements() {
    let f = parse_ok("a :: Idle b :: Discard\na -> b");
    assert_eq!(f.statements.len(), 3);
}

#[test]
fn missing_element_after_arrow() {
    assert_eq!(
        errors("a :: Idle;\na -> ;"),
        ["t.click:2:6: error: expected an element after '->', found ';'"]
    );
}

#[test]
fn unterminated_comment_and_unclosed_paren() {
    assert_eq!(
        errors("a :: Idle;\n/* never\nends"),
        ["t.click:2:1: error: unterminated comment"]
    );
    assert_eq!(
        errors("a :: Counter(1,\n b;"),
        ["t.click:1:13: error: unclosed '(': the configuration string never ends"]
    );
}

#[test]
fn bad_port() {
    assert_eq!(
        errors("a :: Idle; a [x] -> Discard;"),
        ["t.click:1:15: error: expected a port number, found 'x'"]
    );
    assert_eq!(
        errors("a :: Idle; a [1 -> Discard;"),
        ["t.click:1:17: error: expected ']', found '->'"]
    );
}

#[test]
fn several_independent_errors_are_all_reported() {
    let e = errors("a :: Idle;\na -> ;\nb :: Counter;\nb [z] -> Discard;\nb -> Discard;\n");
    assert_eq!(
        e,
        [
            "t.click:2:6: error: expected an element after '->', found ';'",
            "t.click:4:4: error: expected a port number, found 'z'"
        ]
    );
}

#[test]
fn recovery_inside_compound_bodies() {
    let e = errors("elementclass X { input -> -> output }\nY :: Idle -> ;\n");
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].starts_with("t.click:1:27"), "{e:?}");
    assert!(e[1].starts_with("t.click:2:14"), "{e:?}");
}

#[test]
fn unclosed_compound() {
    let e = errors("elementclass X {\n input -> output\n");
    assert_eq!(
        e,
        ["t.click:1:16: error: unclosed '{': this compound element never ends"]
    );
}

#[test]
fn stray_tokens() {
    assert_eq!(
        errors("a :: Idle ) ;"),
        ["t.click:1:11: error: expected ';' or '->', found ')'"]
    );
    assert_eq!(
        errors("a :: Idle [0];"),
        ["t.click:1:11: error: output port with nothing connected to it"]
    );
    assert_eq!(errors("a, b :: Idle -> Discard;"), ["t.click:1:14: error: a declaration of several elements cannot be connected; connect each one by name"]);
}

#[test]
fn never_panics_on_odd_bytes() {
    for s in [
        "",
        "(",
        ")",
        "[",
        "]]",
        "->",
        "::",
        "{",
        "}",
        "||",
        "|",
        "$",
        "\"",
        "'",
        "\\<",
        "a [",
        "a :: {",
        "elementclass",
        "define(",
        "a -> b [",
        "\u{00e9}",
        "a/",
        "#",
        "a :: B(\"\\",
    ] {
        let _ = parse_str("t.click", s);
    }
}

#[test]
fn port_lists_ranges_and_expandable_lists() {
    let f = parse_ok("a [0, 2-4] -> [] b; c [1,] => d, e; x [3-] => y, z;");
    let Statement::Chain(ch) = &f.statements[0] else {
        panic!()
    };
    let spec = ch.sides[0][0].output_ports.as_ref().unwrap();
    assert_eq!(spec.ports, [0, 2, 3, 4]);
    assert_eq!(spec.expandable, None);
    assert_eq!(
        ch.sides[1][0].input_ports.as_ref().unwrap().expandable,
        Some(0)
    );
    let Statement::Chain(ch) = &f.statements[1] else {
        panic!()
    };
    assert_eq!(
        ch.sides[0][0].output_ports.as_ref().unwrap().expandable,
        Some(2)
    );
    assert!(ch.arrows[0].many_to_many);
    assert_eq!(ch.sides[1].len(), 2);
    let Statement::Chain(ch) = &f.statements[2] else {
        panic!()
    };
    let spec = ch.sides[0][0].output_ports.as_ref().unwrap();
    assert_eq!(
        (spec.ports.as_slice(), spec.expandable),
        (&[3][..], Some(4))
    );
}

#[test]
fn implicit_compound_ports() {
    let f =
        parse_ok("elementclass P { -> } elementclass Q { [1] -> Counter -> [1]; input -> output }");
    let Statement::ElementClass(ec) = &f.statements[0] else {
        panic!()
    };
    let ClassBody::Compound(c) = &ec.body else {
        panic!()
    };
    let Statement::Chain(ch) = &c.overloads[0].body[0] else {
        panic!()
    };
    let names: Vec<_> = ch
        .sides
        .iter()
        .map(|s| match &s[0].element {
            ElementRef::Name(n) => n.name.clone(),
            _ => String::new(),
        })
        .collect();
    assert_eq!(names, ["input", "output"]);
    // Outside compounds, a connection cannot start with an arrow.
    assert!(!errors("-> Discard;").is_empty());
}

#[test]
fn element_groups_are_reported_as_unsupported() {
    assert_eq!(errors("a :: Idle; a -> ( -> ) -> Discard;")[0], "t.click:1:17: error: element groups '( ... )' are not supported; use an inline compound '{ ... }'");
}
