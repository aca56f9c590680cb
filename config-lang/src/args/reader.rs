//! [`Args`]: reading named, typed arguments out of a split configuration string.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use super::split::{split, RawArg};
use super::types::ArgValue;
use crate::diag::closest;

/// A problem with one argument: which, why, and where in the configuration string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgError {
    /// The argument's name (`LIMIT`), or empty when the problem is not about one argument.
    pub argument: String,
    pub message: String,
    /// Byte range in the configuration string, when the problem is at a place in it.
    pub range: Option<Range<usize>>,
    /// Extra help, e.g. a suggested keyword.
    pub note: Option<String>,
}

impl ArgError {
    pub fn new(
        argument: &str,
        message: impl Into<String>,
        range: Option<Range<usize>>,
    ) -> ArgError {
        ArgError {
            argument: argument.to_string(),
            message: message.into(),
            range,
            note: None,
        }
    }
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.argument.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "argument {}: {}", self.argument, self.message)
        }
    }
}

/// Reads an element's arguments the way Click's `Args` does: each positional parameter may also
/// be given by keyword (`LENGTH 60` or just `60`), keyword-only parameters only by keyword, and
/// [`Args::complete`] rejects whatever no read asked for.
pub struct Args {
    args: Vec<RawArg>,
    used: Vec<bool>,
    /// Every parameter name asked for, for "did you mean" suggestions.
    asked: Vec<String>,
}

impl Args {
    pub fn new(config: &str) -> Args {
        Args::from_raw(split(config))
    }

    pub fn from_raw(args: Vec<RawArg>) -> Args {
        let used = alloc::vec![false; args.len()];
        Args {
            args,
            used,
            asked: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.args.len()
    }

    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// The last unused `NAME value` argument; earlier repeats are consumed too (the last wins).
    fn take_keyword(&mut self, name: &str) -> Option<usize> {
        self.asked.push(name.to_string());
        let mut found = None;
        for (k, a) in self.args.iter().enumerate() {
            if !self.used[k] && a.keyword().is_some_and(|(kw, _)| kw == name) {
                self.used[k] = true;
                found = Some(k);
            }
        }
        found
    }

    /// The next unused argument that is not in keyword form. A bare upper-case word (`DST_ANNO`)
    /// counts as positional here: Click treats a word as a keyword only when a value follows it,
    /// so `IPEncap(4, 1.0.0.1, DST_ANNO)` gives DST the value `DST_ANNO`. (A read of a parameter
    /// named like the word still takes it as that keyword first.)
    fn take_positional(&mut self) -> Option<usize> {
        let k = (0..self.args.len())
            .find(|&k| !self.used[k] && self.args[k].keyword().is_none_or(|(_, v)| v.is_empty()))?;
        self.used[k] = true;
        Some(k)
    }

    fn value_of(&self, k: usize, keyword: bool) -> (&str, Range<usize>) {
        let a = &self.args[k];
        if keyword {
            let (kw, v) = a.keyword().expect("keyword form");
            let start = a.range.start + a.text.find(v).unwrap_or(kw.len());
            (v, start..a.range.end)
        } else {
            (a.text.as_str(), a.range.clone())
        }
    }

    fn convert<T: ArgValue>(&self, name: &str, k: usize, keyword: bool) -> Result<T, ArgError> {
        let (v, range) = self.value_of(k, keyword);
        T::parse_arg(v).map_err(|why| {
            ArgError::new(
                name,
                format!("expected {}: {why}", T::EXPECTED),
                Some(range),
            )
        })
    }

    /// Mandatory positional (or given by keyword).
    pub fn read_mp<T: ArgValue>(&mut self, name: &str) -> Result<T, ArgError> {
        match self.read_p(name)? {
            Some(v) => Ok(v),
            None => Err(ArgError::new(
                name,
                format!("missing mandatory argument ({})", T::EXPECTED),
                None,
            )),
        }
    }

    /// Optional positional (or given by keyword).
    pub fn read_p<T: ArgValue>(&mut self, name: &str) -> Result<Option<T>, ArgError> {
        if let Some(k) = self.take_keyword(name) {
            return self.convert(name, k, true).map(Some);
        }
        match self.take_positional() {
            Some(k) => self.convert(name, k, false).map(Some),
            None => Ok(None),
        }
    }

    /// Optional keyword-only.
    pub fn read<T: ArgValue>(&mut self, name: &str) -> Result<Option<T>, ArgError> {
        match self.take_keyword(name) {
            Some(k) => self.convert(name, k, true).map(Some),
            None => Ok(None),
        }
    }

    /// Optional keyword-only with a default.
    pub fn read_or<T: ArgValue>(&mut self, name: &str, default: T) -> Result<T, ArgError> {
        Ok(self.read(name)?.unwrap_or(default))
    }

    /// Mandatory keyword-only.
    pub fn read_m<T: ArgValue>(&mut self, name: &str) -> Result<T, ArgError> {
        match self.read(name)? {
            Some(v) => Ok(v),
            None => Err(ArgError::new(
                name,
                format!(
                    "missing mandatory keyword argument {name} ({})",
                    T::EXPECTED
                ),
                None,
            )),
        }
    }

    /// Every occurrence of a repeatable keyword, in order.
    pub fn read_all<T: ArgValue>(&mut self, name: &str) -> Result<Vec<T>, ArgError> {
        self.asked.push(name.to_string());
        let mut out = Vec::new();
        for k in 0..self.args.len() {
            if !self.used[k] && self.args[k].keyword().is_some_and(|(kw, _)| kw == name) {
                self.used[k] = true;
                out.push(self.convert(name, k, true)?);
            }
        }
        Ok(out)
    }

    /// All remaining arguments, in order, raw (for elements whose arguments are a list of rules or
    /// patterns). Keyword-form arguments not read by name are included.
    pub fn rest(&mut self) -> Vec<RawArg> {
        let mut out = Vec::new();
        for k in 0..self.args.len() {
            if !self.used[k] {
                self.used[k] = true;
                out.push(self.args[k].clone());
            }
        }
        out
    }

    /// All remaining positional (non-keyword) arguments, raw.
    pub fn rest_positional(&mut self) -> Vec<RawArg> {
        let mut out = Vec::new();
        while let Some(k) = self.take_positional() {
            out.push(self.args[k].clone());
        }
        out
    }

    /// Fails when an argument was given that no read asked for.
    pub fn complete(self) -> Result<(), ArgError> {
        let Some(k) = (0..self.args.len()).find(|&k| !self.used[k]) else {
            return Ok(());
        };
        let a = &self.args[k];
        match a.keyword() {
            Some((kw, _)) => {
                let mut e = ArgError::new(
                    "",
                    format!("unknown keyword argument '{kw}'"),
                    Some(a.range.start..a.range.start + kw.len()),
                );
                let names: Vec<&str> = self.asked.iter().map(String::as_str).collect();
                e.note = Some(match closest(kw, names.iter().copied()) {
                    Some(s) => format!("did you mean '{s}'?"),
                    None if names.is_empty() => {
                        "this element takes no keyword arguments".to_string()
                    }
                    None => format!("known arguments: {}", names.join(", ")),
                });
                Err(e)
            }
            None => Err(ArgError::new(
                "",
                format!("too many arguments: '{}' is not expected", a.text),
                Some(a.range.clone()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;

    #[test]
    fn positional_then_keywords() {
        let mut a = Args::new("60, 1.2.3.4, LIMIT 5, STOP true");
        assert_eq!(a.read_mp::<u32>("LENGTH"), Ok(60));
        assert_eq!(
            a.read_p::<Ipv4Addr>("ADDR"),
            Ok(Some(Ipv4Addr::new(1, 2, 3, 4)))
        );
        assert_eq!(a.read::<u64>("LIMIT"), Ok(Some(5)));
        assert_eq!(a.read_or("STOP", false), Ok(true));
        assert_eq!(a.read::<bool>("ACTIVE"), Ok(None));
        assert!(a.complete().is_ok());
    }

    #[test]
    fn positional_parameters_can_be_given_by_keyword() {
        let mut a = Args::new("BURST 8, LENGTH 64");
        assert_eq!(a.read_mp::<u32>("LENGTH"), Ok(64));
        assert_eq!(a.read_p::<u32>("BURST"), Ok(Some(8)));
        assert!(a.complete().is_ok());
    }

    #[test]
    fn errors_name_the_argument_and_locate_it() {
        let cfg = "60, LIMIT lots";
        let mut a = Args::new(cfg);
        let _ = a.read_mp::<u32>("LENGTH");
        let e = a.read::<u64>("LIMIT").unwrap_err();
        assert_eq!(e.argument, "LIMIT");
        assert!(e.message.contains("unsigned integer"), "{}", e.message);
        assert_eq!(&cfg[e.range.unwrap()], "lots");
    }

    #[test]
    fn missing_and_unknown() {
        let mut a = Args::new("");
        assert!(a
            .read_mp::<u32>("LENGTH")
            .unwrap_err()
            .message
            .contains("missing"));
        let mut a = Args::new("LIMT 5");
        let _ = a.read::<u64>("LIMIT");
        let e = a.complete().unwrap_err();
        assert!(e.message.contains("LIMT"));
        assert_eq!(e.note.as_deref(), Some("did you mean 'LIMIT'?"));
        let mut a = Args::new("1, 2");
        let _ = a.read_mp::<u32>("A");
        assert!(a.complete().unwrap_err().message.contains("too many"));
    }

    #[test]
    fn bare_upper_case_words_can_be_positional_values() {
        let mut a = Args::new("4, DST_ANNO, 53");
        assert_eq!(a.read_mp::<u32>("PROTO"), Ok(4));
        assert_eq!(a.read_mp::<String>("DST"), Ok("DST_ANNO".to_string()));
        assert_eq!(a.read_mp::<u32>("PORT"), Ok(53));
        assert!(a.complete().is_ok());
        // A read of the parameter the word names still takes it as that keyword.
        let mut a = Args::new("DATA, 5");
        assert_eq!(a.read_p::<String>("DATA"), Ok(Some(String::new())));
        assert_eq!(a.read_p::<u32>("N"), Ok(Some(5)));
        assert!(a.complete().is_ok());
    }

    #[test]
    fn repeated_keywords() {
        let mut a = Args::new("X 1, X 2, X 3");
        assert_eq!(a.read_all::<u32>("X"), Ok(alloc::vec![1, 2, 3]));
        let mut a = Args::new("X 1, X 2");
        assert_eq!(a.read::<u32>("X"), Ok(Some(2)));
        assert!(a.complete().is_ok());
    }
}
