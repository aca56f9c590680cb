//! Click's port-count and processing specifications.

use alloc::string::String;
use alloc::vec::Vec;

/// Allowed numbers of ports on one side: `min..=max` (`max` None: unbounded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    pub min: usize,
    pub max: Option<usize>,
    /// `=` on the output side: as many outputs as inputs.
    pub same_as_inputs: bool,
}

impl PortRange {
    pub fn allows(&self, n: usize) -> bool {
        n >= self.min && self.max.is_none_or(|m| n <= m)
    }

    pub fn describe(&self) -> String {
        match self.max {
            Some(m) if m == self.min => alloc::format!("{m}"),
            Some(m) => alloc::format!("{}-{m}", self.min),
            None if self.min == 0 => String::from("any number of"),
            None => alloc::format!("at least {}", self.min),
        }
    }
}

fn parse_range(s: &str) -> Option<PortRange> {
    let s = s.trim();
    if s == "=" {
        return Some(PortRange {
            min: 0,
            max: None,
            same_as_inputs: true,
        });
    }
    if s == "-" {
        return Some(PortRange {
            min: 0,
            max: None,
            same_as_inputs: false,
        });
    }
    match s.split_once('-') {
        None => {
            let n = s.parse().ok()?;
            Some(PortRange {
                min: n,
                max: Some(n),
                same_as_inputs: false,
            })
        }
        Some((a, "")) => Some(PortRange {
            min: a.parse().ok()?,
            max: None,
            same_as_inputs: false,
        }),
        Some((a, b)) => Some(PortRange {
            min: a.parse().ok()?,
            max: Some(b.parse().ok()?),
            same_as_inputs: false,
        }),
    }
}

/// Parses `IN/OUT` (a single range means the same for both).
pub fn parse_ports(spec: &str) -> Option<(PortRange, PortRange)> {
    match spec.split_once('/') {
        Some((i, o)) => Some((parse_range(i)?, parse_range(o)?)),
        None => {
            let r = parse_range(spec)?;
            Some((r, r))
        }
    }
}

/// A port's processing as declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Processing {
    Push,
    Pull,
    Agnostic,
}

/// The declared processing of each of `n` ports from one side of a spec like `ah`: one letter a
/// port, the last letter repeating.
fn side(letters: &str, n: usize) -> Vec<Processing> {
    let ls: Vec<Processing> = letters
        .chars()
        .map(|c| match c {
            'h' => Processing::Push,
            'l' => Processing::Pull,
            _ => Processing::Agnostic,
        })
        .collect();
    (0..n)
        .map(|k| *ls.get(k).or(ls.last()).unwrap_or(&Processing::Agnostic))
        .collect()
}

/// Declared processing for `ninputs` inputs and `noutputs` outputs.
pub fn parse_processing(
    spec: &str,
    ninputs: usize,
    noutputs: usize,
) -> (Vec<Processing>, Vec<Processing>) {
    let (i, o) = spec.split_once('/').unwrap_or((spec, spec));
    (side(i, ninputs), side(o, noutputs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_specs() {
        let (i, o) = parse_ports("1-2/1").unwrap();
        assert!(i.allows(1) && i.allows(2) && !i.allows(3) && !i.allows(0));
        assert!(o.allows(1) && !o.allows(2));
        let (i, o) = parse_ports("1/-").unwrap();
        assert!(i.allows(1) && o.allows(0) && o.allows(9));
        let (_, o) = parse_ports("1/=").unwrap();
        assert!(o.same_as_inputs);
        let (i, _) = parse_ports("2-/1").unwrap();
        assert!(!i.allows(1) && i.allows(5));
        assert_eq!(parse_ports("0").unwrap().0.max, Some(0));
        assert!(parse_ports("x/1").is_none());
    }

    #[test]
    fn processing_specs_repeat_the_last_letter() {
        let (i, o) = parse_processing("a/ah", 1, 3);
        assert_eq!(i, [Processing::Agnostic]);
        assert_eq!(
            o,
            [Processing::Agnostic, Processing::Push, Processing::Push]
        );
        let (i, o) = parse_processing("h/l", 2, 1);
        assert_eq!(i, [Processing::Push, Processing::Push]);
        assert_eq!(o, [Processing::Pull]);
    }
}
