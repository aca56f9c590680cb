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

/// Ports in brackets: `[1]`, a list `[0, 2]`, a range `[0-3]`, or an expandable list (`[]`,
/// `[1,]`, `[3-]`) that grows to match the other side of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortSpec {
    pub ports: Vec<u32>,
    /// More ports follow the listed ones, numbered from `next`, as many as needed.
    pub expandable: Option<u32>,
    pub span: Span,
}

impl PortSpec {
    pub fn single(number: u32, span: Span) -> PortSpec {
        PortSpec {
            ports: alloc::vec![number],
            expandable: None,
            span,
        }
    }

    /// The port when the spec names exactly one.
    pub fn as_single(&self) -> Option<u32> {
        match (self.ports.as_slice(), self.expandable) {
            ([p], None) => Some(*p),
            _ => None,
        }
    }
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
    pub input_ports: Option<PortSpec>,
    pub element: ElementRef,
    pub output_ports: Option<PortSpec>,
}

/// `->` or `=>` (which also allows many-to-many connections).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrow {
    pub span: Span,
    pub many_to_many: bool,
}

/// `a -> b -> c`, `a, b -> c`, `x [0, 1] => y, z`, or a lone element (`Idle;`). Each side of an
/// arrow is a comma list of endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub sides: Vec<Vec<Endpoint>>,
    /// `arrows[i]` joins `sides[i]` and `sides[i + 1]`.
    pub arrows: Vec<Arrow>,
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
