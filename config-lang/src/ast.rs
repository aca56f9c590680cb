//! The syntax tree of a Click configuration, as written (before compound elements are expanded).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use crate::source::Span;

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// The raw text between a class's parentheses. It is split into arguments only by the element that
/// reads it, exactly as Click does, so quoting and nesting rules apply per element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigText {
    pub text: String,
    /// Span of `text` itself (inside the parentheses).
    pub span: Span,
}

/// A port number in brackets: `[1]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Port {
    pub number: u32,
    pub span: Span,
}

/// A class named or defined in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClassRef {
    Named(Ident),
    /// `{ input -> Counter -> output }`: an anonymous compound class.
    Inline(Box<CompoundClass>),
}

impl ClassRef {
    pub fn span(&self) -> Span {
        match self {
            ClassRef::Named(i) => i.span,
            ClassRef::Inline(c) => c.span,
        }
    }
}

/// `a, b :: Class(config)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declaration {
    pub names: Vec<Ident>,
    pub class: ClassRef,
    pub config: Option<ConfigText>,
    pub span: Span,
}

/// What stands at one position of a connection chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElementRef {
    /// A bare name: a declared element, `input`/`output` in a compound, or else a class used
    /// anonymously (`-> Discard`).
    Name(Ident),
    /// `Class(config)` or `{ ... }`: an anonymous element.
    Anonymous {
        class: ClassRef,
        config: Option<ConfigText>,
        span: Span,
    },
    /// `name :: Class(config)` inside a chain.
    Declared(Declaration),
}

impl ElementRef {
    pub fn span(&self) -> Span {
        match self {
            ElementRef::Name(i) => i.span,
            ElementRef::Anonymous { span, .. } => *span,
            ElementRef::Declared(d) => d.span,
        }
    }
}

/// `[in] element [out]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub input_port: Option<Port>,
    pub element: ElementRef,
    pub output_port: Option<Port>,
}

/// `a -> b -> c`, or a lone element (`Idle;`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub endpoints: Vec<Endpoint>,
    /// Span of each `->`; `arrows[i]` joins `endpoints[i]` and `endpoints[i + 1]`.
    pub arrows: Vec<Span>,
}

/// A formal parameter of a compound class: `$rate` or `KEYWORD $rate`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Formal {
    /// The keyword, for a keyword formal.
    pub keyword: Option<String>,
    /// The variable name, without `$`.
    pub name: Ident,
}

/// One alternative of a compound class: `$a, $b | body`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overload {
    pub formals: Vec<Formal>,
    pub body: Vec<Statement>,
    pub span: Span,
}

/// `{ overload || overload ... }`. A `...` alternative means "the earlier definitions of this
/// class", which Click uses to extend a class with new overloads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompoundClass {
    pub overloads: Vec<Overload>,
    pub inherits_previous: bool,
    pub span: Span,
}

/// `elementclass Name { ... }` or `elementclass Name Other;`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClassBody {
    Compound(CompoundClass),
    Synonym(Ident),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementClass {
    pub name: Ident,
    pub body: ClassBody,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Statement {
    Declaration(Declaration),
    Chain(Chain),
    ElementClass(ElementClass),
    /// `define($NAME value, ...)`.
    Define(ConfigText),
    /// `require(...)`.
    Require(ConfigText),
}

/// A parsed file.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ConfigFile {
    pub statements: Vec<Statement>,
}
