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
            match self.statement(i) {
                Ok((rest, st)) => {
                    out.push(st);
                    i = rest;
                    // What follows a statement must end it or start another one.
                    let after = match self.ws(i) {
                        Ok((r, ())) => r,
                        Err(_) => continue, // reported on the next turn
                    };
                    let ok = after.is_empty()
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

    fn statement(&self, i: &'a str) -> PResult<'a, Statement> {
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
        self.chain(i)
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

    fn port(&self, i: &'a str) -> PResult<'a, Option<Port>> {
        if !i.starts_with('[') {
            return Ok((i, None));
        }
        let (r, ()) = self.ws(&i[1..])?;
        let (r2, digits) =
            nom::character::complete::digit0::<&str, PError>(r).map_err(|_| unreachable_err(r))?;
        if digits.is_empty() {
            return Err(NomErr::Failure(PError::at(
                r,
                token::token_len(r),
                format!("expected a port number, found {}", describe(r)),
            )));
        }
        let number: u32 = match digits.parse() {
            Ok(n) if n < 65536 => n,
            _ => {
                return Err(NomErr::Failure(PError::at(
                    r,
                    digits.len(),
                    "port number too large".to_string(),
                )))
            }
        };
        let (r3, ()) = self.ws(r2)?;
        if let Some(end) = r3.strip_prefix(']') {
            return Ok((
                end,
                Some(Port {
                    number,
                    span: self.span(i, end),
                }),
            ));
        }
        Err(NomErr::Failure(PError::at(
            r3,
            token::token_len(r3),
            format!("expected ']', found {}", describe(r3)),
        )))
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

    /// One endpoint of a chain. Returns a declaration of several names as `Err(Ok(decl))`-like
    /// data through `Multi`.
    fn endpoint(&self, start: &'a str, first: bool) -> PResult<'a, EndpointOrDecl> {
        let (i, input_port) = self.port(start)?;
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
                    let what = if first {
                        "expected a statement"
                    } else {
                        "expected an element after '->'"
                    };
                    return Err(NomErr::Failure(PError::at(
                        i,
                        token::token_len(i),
                        format!("{what}, found {}", describe(i)),
                    )));
                }
            };
            let (after, ()) = self.ws(r)?;
            if first && input_port.is_none() && after.starts_with(',') {
                let (r, d) = self.multi_declaration(elem_start, name, after)?;
                return Ok((r, EndpointOrDecl::Multi(d)));
            }
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
        let (i, output_port) = if after.starts_with('[') {
            self.port(after)?
        } else {
            (i, None)
        };
        Ok((
            i,
            EndpointOrDecl::One(Endpoint {
                input_port,
                element,
                output_port,
            }),
        ))
    }

    /// `a, b, c :: Class(config)`; `after_first` starts at the first `,`.
    fn multi_declaration(
        &self,
        start: &'a str,
        first: Ident,
        mut i: &'a str,
    ) -> PResult<'a, Declaration> {
        let mut names = alloc::vec![first];
        while let Some(r) = i.strip_prefix(',') {
            let (r, ()) = self.ws(r)?;
            let after = match token::ident(r) {
                Ok((after, n)) => {
                    names.push(Ident {
                        name: n.to_string(),
                        span: self.span(r, after),
                    });
                    after
                }
                Err(_) => {
                    return Err(NomErr::Failure(PError::at(
                        r,
                        token::token_len(r),
                        format!("expected an element name after ',', found {}", describe(r)),
                    )))
                }
            };
            let (r, ()) = self.ws(after)?;
            i = r;
        }
        let Some(c) = i.strip_prefix("::") else {
            return Err(NomErr::Failure(PError::at(
                i,
                token::token_len(i),
                format!(
                    "expected '::' after a list of element names, found {}",
                    describe(i)
                ),
            )));
        };
        let (c, ()) = self.ws(c)?;
        let (r, class) = self.class_ref(c)?;
        let (r, config) = self.opt_config(r)?;
        Ok((
            r,
            Declaration {
                names,
                class,
                config,
                span: self.span(start, r),
            },
        ))
    }

    fn chain(&self, start: &'a str) -> PResult<'a, Statement> {
        let (mut i, first) = self.endpoint(start, true)?;
        let first = match first {
            EndpointOrDecl::Multi(d) => {
                let (after, ()) = self.ws(i)?;
                if after.starts_with("->") {
                    return Err(NomErr::Failure(PError::at(
                        after,
                        2,
                        "a declaration of several elements cannot be connected; connect each one by name"
                            .to_string(),
                    )));
                }
                return Ok((i, Statement::Declaration(d)));
            }
            EndpointOrDecl::One(e) => e,
        };
        if let Some(p) = first.input_port {
            return Err(NomErr::Failure(PError {
                at: start,
                len: p.span.len(),
                message: "input port with nothing connected to it".to_string(),
                label: Some("this port has no '->' on its left"),
            }));
        }
        let mut endpoints = alloc::vec![first];
        let mut arrows = Vec::new();
        loop {
            let (after, ()) = self.ws(i)?;
            if after.starts_with("=>") {
                return Err(NomErr::Failure(PError::at(
                    after,
                    2,
                    "'=>' connections are not supported; use '->'".to_string(),
                )));
            }
            let Some(r) = after.strip_prefix("->") else {
                break;
            };
            arrows.push(self.span_len(after, 2));
            let (r, ()) = self.ws(r)?;
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
            let (r, e) = self.endpoint(r, false)?;
            match e {
                EndpointOrDecl::One(e) => endpoints.push(e),
                EndpointOrDecl::Multi(_) => {
                    unreachable!("only the first endpoint may declare several names")
                }
            }
            i = r;
        }
        let last = endpoints.last().expect("one endpoint at least");
        if let Some(p) = last.output_port {
            let o = p.span.start as usize;
            return Err(NomErr::Failure(PError {
                at: &self.src[o..],
                len: p.span.len(),
                message: "output port with nothing connected to it".to_string(),
                label: Some("this port has no '->' on its right"),
            }));
        }
        if endpoints.len() == 1 {
            let e = endpoints.pop().expect("one endpoint");
            if let ElementRef::Declared(d) = e.element {
                return Ok((i, Statement::Declaration(d)));
            }
            return Ok((
                i,
                Statement::Chain(Chain {
                    endpoints: alloc::vec![e],
                    arrows,
                }),
            ));
        }
        Ok((i, Statement::Chain(Chain { endpoints, arrows })))
    }
}

enum EndpointOrDecl {
    One(Endpoint),
    Multi(Declaration),
}

fn unreachable_err(i: &str) -> NomErr<PError<'_>> {
    NomErr::Failure(PError::at(i, 0, "internal parser error".to_string()))
}

#[cfg(test)]
mod tests;
