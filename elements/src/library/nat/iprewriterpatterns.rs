//! IPRewriterPatterns — names rewrite patterns that IPRewriter, TCPRewriter and UDPRewriter
//! inputs can use as `pattern NAME FOUTPUT ROUTPUT`.
//!
//! Ports: none.
//! Processing: none.
//! Arguments: any number of `NAME SADDR SPORT DADDR DPORT`, the pattern written as in a
//! rewriter's `pattern` input spec (see `iprewriter.rs`). Names must be distinct across every
//! IPRewriterPatterns element of the router.
//! Handlers: none.
//!
//! The element only checks its patterns; the rewriters read its configuration when they are
//! configured. Unlike Click, each rewriter input using a name gets its own copy of the pattern,
//! so a sequential (`#`) port allocation does not continue from one input to another.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use config_lang::args::{ArgError, Args};

use crate::element::{ConfigureContext, Element, ElementClass};

pub const CLASS: ElementClass = crate::library::standard::element_class!(
    "IPRewriterPatterns",
    "0/0",
    "a/a",
    IPRewriterPatterns
);

#[derive(Default)]
pub struct IPRewriterPatterns;

impl Element for IPRewriterPatterns {
    fn configure(&mut self, args: &mut Args, cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        // Names defined by IPRewriterPatterns elements declared before this one.
        let mut earlier: Vec<String> = Vec::new();
        for e in cx.elements_of_class("IPRewriterPatterns") {
            if e.name == cx.name {
                break;
            }
            for a in config_lang::args::split(&e.config) {
                if let Some(n) = a.text.split_whitespace().next() {
                    earlier.push(n.into());
                }
            }
        }
        let mut mine: Vec<String> = Vec::new();
        // Every argument, keyword-looking or not: a pattern may be named in capitals.
        for raw in args.rest() {
            let words: Vec<&str> = raw.text.split_whitespace().collect();
            let Some((&name, pattern)) = words.split_first() else {
                continue;
            };
            let fail = |msg: String| ArgError::new("PATTERN", msg, Some(raw.range.clone()));
            if earlier.iter().chain(mine.iter()).any(|n| n == name) {
                return Err(fail(format!("pattern '{name}' already defined")));
            }
            super::rewriter::check_pattern(pattern)
                .map_err(|e| fail(format!("pattern '{name}': {e}")))?;
            mine.push(name.into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::build_errors;

    #[test]
    fn checks_patterns_and_names() {
        assert!(
            build_errors("IPRewriterPatterns(a 1.0.0.1 1024-65535# - -, B - - 2.0.0.2 80);")
                .is_empty()
        );
        let e = build_errors("IPRewriterPatterns(a 1.0.0.1 99999 - -);");
        assert!(e[0].contains("bad source port"), "{e:?}");
        let e = build_errors("IPRewriterPatterns(a 1.0.0.1 - -);");
        assert!(e[0].contains("syntax error"), "{e:?}");
        let e = build_errors("IPRewriterPatterns(a - - - -, a - - - -);");
        assert!(e[0].contains("already defined"), "{e:?}");
        let e = build_errors(
            "p1 :: IPRewriterPatterns(a - - - -); p2 :: IPRewriterPatterns(a - - - -);",
        );
        assert_eq!(e.len(), 1);
        assert!(
            e[0].contains("p2") && e[0].contains("already defined"),
            "{e:?}"
        );
    }
}
