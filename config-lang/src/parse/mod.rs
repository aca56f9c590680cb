//! The parser: Click configuration text to a [`ConfigFile`] syntax tree.
//!
//! Built on `nom` over `&str`. Spans come from pointer arithmetic against the whole file's text
//! (every slice the parser sees is a suffix of it), so the tokens carry no position bookkeeping.
//!
//! Errors do not stop the parse: a statement that fails to parse is reported, the parser skips to
//! the next statement (`;`, a closing `}`, or a line that starts a new statement) and carries on,
//! so one run reports every independent mistake.

mod token;

pub(crate) use token::is_keyword;

use alloc::boxed::Box;
use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;
use core::cell::RefCell;

use nom::Err as NomErr;
use nom::IResult;

use crate::ast::*;
use crate::diag::Diagnostic;
use crate::source::{FileId, SourceMap, Span};
use token::{describe, is_ident_start, PError};

pub(crate) type PResult<'a, T> = IResult<&'a str, T, PError<'a>>;

/// Parses one file of `sources`. Returns the tree of everything that parsed, and the diagnostics
/// for everything that did not.
pub fn parse_file(sources: &SourceMap, file: FileId) -> (ConfigFile, Vec<Diagnostic>) {
    let text = sources.file(file).text.as_str();
    let p = Parser {
        src: text,
        file,
        diags: RefCell::new(Vec::new()),
    };
    let (statements, rest) = p.body(text, false);
    if !rest.is_empty() {
        // body() at top level only stops early on a stray closing token.
        p.report(PError::at(
            rest,
            1,
            format!("unexpected {}", describe(rest)),
        ));
    }
    let diags = p.diags.into_inner();
    (ConfigFile { statements }, diags)
}

/// Parses a string given directly (`clickos-cli run -e '...'`, tests).
pub fn parse_str(name: &str, text: &str) -> (SourceMap, ConfigFile, Vec<Diagnostic>) {
    let mut sm = SourceMap::new();
    let id = sm.add(name, text);
    let (f, d) = parse_file(&sm, id);
    (sm, f, d)
}

pub(crate) struct Parser<'a> {
    src: &'a str,
    file: FileId,
    diags: RefCell<Vec<Diagnostic>>,
}

/// What `->` may not be followed by, for the "expected element" message.
fn ends_statement(i: &str) -> bool {
    i.is_empty()
        || i.starts_with(';')
        || i.starts_with('}')
        || i.starts_with('|')
        || i.starts_with("->")
}

impl<'a> Parser<'a> {
    fn offset(&self, s: &'a str) -> usize {
        s.as_ptr() as usize - self.src.as_ptr() as usize
    }

    /// Span from the start of `from` to the start of `to` (`to` is a later suffix).
    fn span(&self, from: &'a str, to: &'a str) -> Span {
        Span::new(self.file, self.offset(from), self.offset(to))
    }

    fn span_len(&self, at: &'a str, len: usize) -> Span {
        let o = self.offset(at);
        Span::new(self.file, o, o + len.min(at.len()))
    }

    fn report(&self, e: PError<'a>) {
        let span = self.span_len(e.at, e.len);
        let mut d = Diagnostic::error(e.message, Some(span));
        if let Some(l) = e.label {
            d = d.with_label(l);
        }
        self.diags.borrow_mut().push(d);
    }

    /// Whitespace, comments and `# line` directives. An unterminated `/*` is a failure.
    fn ws(&self, i: &'a str) -> PResult<'a, ()> {
        token::skip_ws(self.src, i)
    }

    /// Statements up to the end of input, or up to a `}` / `|` (which the caller handles).
    fn body(&self, mut i: &'a str, in_compound: bool) -> (Vec<Statement>, &'a str) {
        let mut out = Vec::new();
        loop {
            i = match self.ws(i) {
                Ok((r, ())) => r,
                Err(NomErr::Error(e) | NomErr::Failure(e)) => {
                    self.report(e);
                    return (out, &i[i.len()..]);
                }
                Err(NomErr::Incomplete(_)) => unreachable!("complete parsers only"),
            };
            if i.is_empty() || i.starts_with('|') || (i.starts_with('}') && in_compound) {
                return (out, i);
            }
            if let Some(r) = i.strip_prefix(';') {
                i = r;
                continue;
            }
            if i.starts_with('#') {
                let msg = if token::at_line_start(self.src, i) {
                    "unknown preprocessor directive: Click has no '#' comments; use '//'"
                } else {
                    "unexpected '#': Click has no '#' comments; use '//'"
                };
                self.report(PError::at(i, 1, msg.to_string()));
                i = i.find('\n').map_or(&i[i.len()..], |n| &i[n..]);
                continue;
            }
            match self.statement(i, in_compound) {
                Ok((rest, st)) => {
                    out.push(st);
                    i = rest;
                    // What follows a statement must end it or start another one.
                    let after = match self.ws(i) {
                        Ok((r, ())) => r,
                        Err(_) => continue, // reported on the next turn
                    };
                    let ok = after.is_empty()
                        || after.starts_with('#')
                        || (in_compound && (after.starts_with("->") || after.starts_with("=>")))
                        || after.starts_with(';')
                        || after.starts_with('}')
                        || after.starts_with('|')
                        || after.starts_with('[')
                        || after.starts_with('{')
                        || after.chars().next().is_some_and(is_ident_start);
                    if !ok {
                        self.report(PError::at(
                            after,
                            token::token_len(after),
                            format!("expected ';' or '->', found {}", describe(after)),
                        ));
                        i = self.recover(after, in_compound);
                    }
                }
                Err(NomErr::Error(e) | NomErr::Failure(e)) => {
                    let at = e.at;
                    self.report(e);
                    i = self.recover(at, in_compound);
                }
                Err(NomErr::Incomplete(_)) => unreachable!("complete parsers only"),
            }
        }
    }

    /// Skips past a broken statement: to just after the next `;`, to a `}` closing the compound
    /// being parsed, or to the next line that starts a new statement (not a continuation like
    /// `-> x` or `[1] -> y`). Always makes progress.
    fn recover(&self, from: &'a str, in_compound: bool) -> &'a str {
        let bytes = from.as_bytes();
        let mut k = 0;
        let mut depth = 0i32;
        while k < bytes.len() {
            match bytes[k] {
                b'(' | b'{' => depth += 1,
                b')' => depth -= 1,
                b'}' => {
                    if depth <= 0 && in_compound {
                        return &from[k.max(1).min(from.len())..];
                    }
                    depth -= 1;
                }
                b';' if depth <= 0 => return &from[k + 1..],
                b'\n' if depth <= 0 => {
                    let next = from[k + 1..].trim_start();
                    if !(next.starts_with('-') || next.starts_with('[')) {
                        return &from[k + 1..];
                    }
                }
                _ => {}
            }
            k += 1;
        }
        &from[from.len()..]
    }

    fn statement(&self, i: &'a str, in_compound: bool) -> PResult<'a, Statement> {
        if let Ok((rest, word)) = token::ident(i) {
            match word {
                "elementclass" => return self.element_class(i, rest),
                "require" | "define" | "provide" => {
                    let (r, ()) = self.ws(rest)?;
                    if r.starts_with('(') {
                        let (r, cfg) = self.config(r)?;
                        return Ok((
                            r,
                            match word {
                                "define" => Statement::Define(cfg),
                                _ => Statement::Require(cfg),
                            },
                        ));
                    }
                    return Err(NomErr::Failure(PError::at(
                        r,
                        token::token_len(r),
                        format!("expected '(' after '{word}'"),
                    )));
                }
                "connectiontunnel" => {
                    return Err(NomErr::Failure(PError::at(
                        i,
                        word.len(),
                        "connection tunnels are not supported; connect the elements directly"
                            .to_string(),
                    )))
                }
                _ => {}
            }
        }
        self.chain(i, in_compound)
    }

    fn element_class(&self, start: &'a str, i: &'a str) -> PResult<'a, Statement> {
        let (i, ()) = self.ws(i)?;
        let (i, name) = match token::ident(i) {
            Ok((r, n)) => (
                r,
                Ident {
                    name: n.to_string(),
                    span: self.span(i, r),
                },
            ),
            Err(_) => {
                return Err(NomErr::Failure(PError::at(
                    i,
                    token::token_len(i),
                    format!(
                        "expected class name after 'elementclass', found {}",
                        describe(i)
                    ),
                )))
            }
        };
        let (i, ()) = self.ws(i)?;
        if i.starts_with('{') {
            let (r, c) = self.compound(i)?;
            let span = self.span(start, r);
            return Ok((
                r,
                Statement::ElementClass(ElementClass {
                    name,
                    body: ClassBody::Compound(c),
                    span,
                }),
            ));
        }
        match token::ident(i) {
            Ok((r, other)) => {
                let syn = Ident {
                    name: other.to_string(),
                    span: self.span(i, r),
                };
                let span = self.span(start, r);
                Ok((
                    r,
                    Statement::ElementClass(ElementClass {
                        name,
                        body: ClassBody::Synonym(syn),
                        span,
                    }),
                ))
            }
            Err(_) => Err(NomErr::Failure(PError::at(
                i,
                token::token_len(i),
                format!(
                    "expected '{{' or a class name after 'elementclass {}', found {}",
                    name.name,
                    describe(i)
                ),
            ))),
        }
    }

    /// `{ [formals |] body || ... }`; `i` starts at `{`.
    fn compound(&self, open: &'a str) -> PResult<'a, CompoundClass> {
        let mut i = &open[1..];
        let mut overloads = Vec::new();
        let mut inherits_previous = false;
        loop {
            let (r, ()) = self.ws(i)?;
            i = r;
            let ov_start = i;
            if let Some(r) = i.strip_prefix("...") {
                inherits_previous = true;
                let (r, ()) = self.ws(r)?;
                i = r;
            } else {
                let (r, formals) = self.formals(i)?;
                let (body, r) = self.body(r, true);
                overloads.push(Overload {
                    formals,
                    body,
                    span: self.span(ov_start, r),
                });
                i = r;
            }
            if let Some(r) = i.strip_prefix("||") {
                i = r;
                continue;
            }
            if let Some(r) = i.strip_prefix('}') {
                return Ok((
                    r,
                    CompoundClass {
                        overloads,
                        inherits_previous,
                        span: self.span(open, r),
                    },
                ));
            }
            if i.is_empty() {
                return Err(NomErr::Failure(
                    PError::at(
                        open,
                        1,
                        "unclosed '{': this compound element never ends".to_string(),
                    )
                    .label("opened here"),
                ));
            }
            return Err(NomErr::Failure(PError::at(
                i,
                token::token_len(i),
                format!(
                    "expected '}}' or '||' in compound element, found {}",
                    describe(i)
                ),
            )));
        }
    }

    /// `$a, KEYWORD $b |` at the start of a compound body, or nothing.
    fn formals(&self, i: &'a str) -> PResult<'a, Vec<Formal>> {
        let starts_formals = |s: &'a str| -> bool {
            if s.starts_with('$') {
                return true;
            }
            match token::ident(s) {
                Ok((r, w)) => token::is_keyword(w) && r.trim_start().starts_with('$'),
                Err(_) => false,
            }
        };
        if !starts_formals(i) {
            return Ok((i, Vec::new()));
        }
        let mut out = Vec::new();
        let mut i = i;
        loop {
            let (r, keyword) = match token::ident(i) {
                Ok((r, w)) if token::is_keyword(w) => {
                    let (r, ()) = self.ws(r)?;
                    (r, Some(w.to_string()))
                }
                _ => (i, None),
            };
            let (r, name) = match token::variable(r) {
                Ok((after, v)) => (
                    after,
                    Ident {
                        name: v.to_string(),
                        span: self.span(r, after),
                    },
                ),
                Err(_) => {
                    return Err(NomErr::Failure(PError::at(
                        r,
                        token::token_len(r),
                        format!(
                            "expected a formal parameter like '$name', found {}",
                            describe(r)
                        ),
                    )))
                }
            };
            out.push(Formal { keyword, name });
            let (r, ()) = self.ws(r)?;
            if let Some(r) = r.strip_prefix(',') {
                let (r, ()) = self.ws(r)?;
                i = r;
                continue;
            }
            if r.starts_with('|') && !r.starts_with("||") {
                return Ok((&r[1..], out));
            }
            return Err(NomErr::Failure(PError::at(
                r,
                token::token_len(r),
                format!(
                    "expected ',' or '|' after formal parameters, found {}",
                    describe(r)
                ),
            )));
        }
    }

    /// `( ... )` with balanced nesting; `i` starts at `(`.
    fn config(&self, i: &'a str) -> PResult<'a, ConfigText> {
        let (rest, inner) = token::config_body(i)?;
        Ok((
            rest,
            ConfigText {
                text: inner.to_string(),
                span: self.span_len(inner, inner.len()),
            },
        ))
    }
    /// `[...]`: one port, a list `[0, 2]`, a range `[1-3]`, or expandable (`[]`, `[1,]`, `[2-]`).
    fn ports(&self, i: &'a str) -> PResult<'a, Option<PortSpec>> {
        if !i.starts_with('[') {
            return Ok((i, None));
        }
        let mut ports = Vec::new();
        let mut expandable = None;
        let (mut r, ()) = self.ws(&i[1..])?;
        loop {
            if let Some(end) = r.strip_prefix(']') {
                if ports.is_empty() && expandable.is_none() {
                    expandable = Some(0);
                }
                return Ok((
                    end,
                    Some(PortSpec {
                        ports,
                        expandable,
                        span: self.span(i, end),
                    }),
                ));
            }
            let (after, first) = self.port_number(r)?;
            let (after, ()) = self.ws(after)?;
            r = after;
            if let Some(rest) = r.strip_prefix('-').filter(|rest| !rest.starts_with('>')) {
                let (rest, ()) = self.ws(rest)?;
                if rest.starts_with(']') || rest.starts_with(',') {
                    // `[3-]`: from 3 on, as many as needed.
                    ports.push(first);
                    expandable = Some(first + 1);
                    r = rest;
                } else {
                    let (rest, last) = self.port_number(rest)?;
                    if last < first {
                        return Err(NomErr::Failure(PError::at(
                            r,
                            1,
                            format!("port range {first}-{last} runs backwards"),
                        )));
                    }
                    ports.extend(first..=last);
                    let (rest, ()) = self.ws(rest)?;
                    r = rest;
                }
            } else {
                ports.push(first);
            }
            if let Some(rest) = r.strip_prefix(',') {
                let (rest, ()) = self.ws(rest)?;
                if rest.starts_with(']') {
                    // `[1,]`: the list continues as needed.
                    expandable = Some(ports.last().map_or(0, |p| p + 1));
                }
                r = rest;
            } else if !r.starts_with(']') {
                return Err(NomErr::Failure(PError::at(
                    r,
                    token::token_len(r),
                    format!("expected ']', found {}", describe(r)),
                )));
            }
        }
    }

    fn port_number(&self, r: &'a str) -> PResult<'a, u32> {
        let (r2, digits) =
            nom::character::complete::digit0::<&str, PError>(r).map_err(|_| unreachable_err(r))?;
        if digits.is_empty() {
            return Err(NomErr::Failure(PError::at(
                r,
                token::token_len(r),
                format!("expected a port number, found {}", describe(r)),
            )));
        }
        match digits.parse::<u32>() {
            Ok(n) if n < 65536 => Ok((r2, n)),
            _ => Err(NomErr::Failure(PError::at(
                r,
                digits.len(),
                "port number too large".to_string(),
            ))),
        }
    }

    /// A class after `::`: a name or an inline `{ ... }`.
    fn class_ref(&self, i: &'a str) -> PResult<'a, ClassRef> {
        if i.starts_with('{') {
            let (r, c) = self.compound(i)?;
            return Ok((r, ClassRef::Inline(Box::new(c))));
        }
        match token::ident(i) {
            Ok((r, n)) => Ok((
                r,
                ClassRef::Named(Ident {
                    name: n.to_string(),
                    span: self.span(i, r),
                }),
            )),
            Err(_) => Err(NomErr::Failure(PError::at(
                i,
                token::token_len(i),
                format!("expected a class name after '::', found {}", describe(i)),
            ))),
        }
    }

    fn opt_config(&self, i: &'a str) -> PResult<'a, Option<ConfigText>> {
        let (r, ()) = self.ws(i)?;
        if r.starts_with('(') {
            let (r, c) = self.config(r)?;
            Ok((r, Some(c)))
        } else {
            Ok((i, None))
        }
    }

    /// One endpoint: `[in] element [out]`. `what` says what was expected, for the error.
    fn endpoint(&self, start: &'a str, what: &str) -> PResult<'a, Endpoint> {
        let (i, input_ports) = self.ports(start)?;
        let (i, ()) = self.ws(i)?;
        let elem_start = i;
        let (i, element) = if i.starts_with('{') {
            let (r, c) = self.compound(i)?;
            let (r, config) = self.opt_config(r)?;
            let span = self.span(elem_start, r);
            (
                r,
                ElementRef::Anonymous {
                    class: ClassRef::Inline(Box::new(c)),
                    config,
                    span,
                },
            )
        } else if i.starts_with('(') {
            return Err(NomErr::Failure(PError::at(
                i,
                1,
                "element groups '( ... )' are not supported; use an inline compound '{ ... }'"
                    .to_string(),
            )));
        } else {
            let (r, name) = match token::ident(i) {
                Ok((r, n)) => (
                    r,
                    Ident {
                        name: n.to_string(),
                        span: self.span(i, r),
                    },
                ),
                Err(_) => {
                    return Err(NomErr::Failure(PError::at(
                        i,
                        token::token_len(i),
                        format!("{what}, found {}", describe(i)),
                    )));
                }
            };
            let (after, ()) = self.ws(r)?;
            if let Some(c) = after.strip_prefix("::") {
                let (c, ()) = self.ws(c)?;
                let (r, class) = self.class_ref(c)?;
                let (r, config) = self.opt_config(r)?;
                let span = self.span(elem_start, r);
                (
                    r,
                    ElementRef::Declared(Declaration {
                        names: alloc::vec![name],
                        class,
                        config,
                        span,
                    }),
                )
            } else if after.starts_with('(') {
                let (r, config) = self.config(after)?;
                let span = self.span(elem_start, r);
                (
                    r,
                    ElementRef::Anonymous {
                        class: ClassRef::Named(name),
                        config: Some(config),
                        span,
                    },
                )
            } else {
                (r, ElementRef::Name(name))
            }
        };
        let (after, ()) = self.ws(i)?;
        let (i, output_ports) = if after.starts_with('[') {
            self.ports(after)?
        } else {
            (i, None)
        };
        Ok((
            i,
            Endpoint {
                input_ports,
                element,
                output_ports,
            },
        ))
    }

    /// `endpoint (, endpoint)*`: one side of an arrow.
    fn endpoint_list(&self, start: &'a str, what: &str) -> PResult<'a, Vec<Endpoint>> {
        let (mut i, first) = self.endpoint(start, what)?;
        let mut list = alloc::vec![first];
        loop {
            let (after, ()) = self.ws(i)?;
            let Some(r) = after.strip_prefix(',') else {
                break;
            };
            let (r, ()) = self.ws(r)?;
            let (r, e) = self.endpoint(r, "expected an element after ','")?;
            list.push(e);
            i = r;
        }
        Ok((i, list))
    }

    /// The pseudo-element a compound body's implicit port stands for (`-> x` means `input -> x`).
    fn implicit(&self, name: &str, at: &'a str) -> ElementRef {
        ElementRef::Name(Ident {
            name: name.to_string(),
            span: self.span_len(at, 0),
        })
    }

    fn chain(&self, start: &'a str, in_compound: bool) -> PResult<'a, Statement> {
        let is_arrow = |s: &str| s.starts_with("->") || s.starts_with("=>");
        let ends = |s: &str| {
            s.is_empty() || s.starts_with(';') || s.starts_with('}') || s.starts_with('|')
        };
        let mut sides: Vec<Vec<Endpoint>> = Vec::new();
        let mut arrows = Vec::new();
        let mut i = start;
        // Inside a compound, `-> x` and `[k] -> x` start at the compound's input.
        if in_compound && (is_arrow(start) || start.starts_with('[')) {
            let (r, spec) = self.ports(start)?;
            let (r, ()) = self.ws(r)?;
            if is_arrow(r) {
                sides.push(alloc::vec![Endpoint {
                    input_ports: None,
                    element: self.implicit("input", start),
                    output_ports: spec
                }]);
                i = r;
            }
        }
        if sides.is_empty() {
            let (r, first) = self.endpoint_list(start, "expected a statement")?;
            if let Some(d) = as_multi_declaration(&first) {
                let (after, ()) = self.ws(r)?;
                if is_arrow(after) {
                    return Err(NomErr::Failure(PError::at(
                        after,
                        2,
                        "a declaration of several elements cannot be connected; connect each one by name".to_string(),
                    )));
                }
                return Ok((r, Statement::Declaration(d)));
            }
            if let Some(p) = first.iter().find_map(|e| e.input_ports.as_ref()) {
                let at = &self.src[p.span.start as usize..];
                return Err(NomErr::Failure(PError {
                    at,
                    len: p.span.len(),
                    message: "input port with nothing connected to it".to_string(),
                    label: Some("this port has no '->' on its left"),
                }));
            }
            sides.push(first);
            i = r;
        }
        loop {
            let (after, ()) = self.ws(i)?;
            if !is_arrow(after) {
                break;
            }
            arrows.push(Arrow {
                span: self.span_len(after, 2),
                many_to_many: after.starts_with("=>"),
            });
            let (r, ()) = self.ws(&after[2..])?;
            // Inside a compound, `x ->` and `x -> [k]` end at the compound's output.
            if in_compound {
                if ends(r) {
                    sides.push(alloc::vec![Endpoint {
                        input_ports: None,
                        element: self.implicit("output", r),
                        output_ports: None
                    }]);
                    i = r;
                    break;
                }
                if r.starts_with('[') {
                    let (r2, spec) = self.ports(r)?;
                    let (r3, ()) = self.ws(r2)?;
                    if ends(r3) {
                        sides.push(alloc::vec![Endpoint {
                            input_ports: spec,
                            element: self.implicit("output", r2),
                            output_ports: None
                        }]);
                        i = r2;
                        break;
                    }
                }
            }
            if ends_statement(r) {
                return Err(NomErr::Failure(
                    PError::at(
                        r,
                        token::token_len(r),
                        format!("expected an element after '->', found {}", describe(r)),
                    )
                    .label("the connection ends here"),
                ));
            }
            let (r, side) = self.endpoint_list(r, "expected an element after '->'")?;
            sides.push(side);
            i = r;
        }
        if let Some(p) = sides
            .last()
            .and_then(|s| s.iter().find_map(|e| e.output_ports.as_ref()))
        {
            let at = &self.src[p.span.start as usize..];
            return Err(NomErr::Failure(PError {
                at,
                len: p.span.len(),
                message: "output port with nothing connected to it".to_string(),
                label: Some("this port has no '->' on its right"),
            }));
        }
        if sides.len() == 1 && sides[0].len() == 1 {
            let e = sides.pop().and_then(|mut s| s.pop()).expect("one endpoint");
            if let ElementRef::Declared(d) = e.element {
                return Ok((i, Statement::Declaration(d)));
            }
            return Ok((
                i,
                Statement::Chain(Chain {
                    sides: alloc::vec![alloc::vec![e]],
                    arrows,
                }),
            ));
        }
        Ok((i, Statement::Chain(Chain { sides, arrows })))
    }
}

/// `a, b, c :: Class(config)` parses as a list whose last item declares `c`: when every other item
/// is a bare name, it declares them all.
fn as_multi_declaration(list: &[Endpoint]) -> Option<Declaration> {
    let (last, rest) = list.split_last()?;
    if rest.is_empty() || last.input_ports.is_some() || last.output_ports.is_some() {
        return None;
    }
    let ElementRef::Declared(d) = &last.element else {
        return None;
    };
    let mut names = Vec::new();
    for e in rest {
        match (&e.element, &e.input_ports, &e.output_ports) {
            (ElementRef::Name(n), None, None) => names.push(n.clone()),
            _ => return None,
        }
    }
    names.extend(d.names.iter().cloned());
    let span = names[0].span.to(d.span);
    Some(Declaration {
        names,
        class: d.class.clone(),
        config: d.config.clone(),
        span,
    })
}

fn unreachable_err(i: &str) -> NomErr<PError<'_>> {
    NomErr::Failure(PError::at(i, 0, "internal parser error".to_string()))
}

#[cfg(test)]
mod tests;
