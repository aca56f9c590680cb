//! Reading a configuration from a file or standard input (`-`).

use std::io::Read;

use crate::Failure;

/// Returns the name to show in diagnostics and the text.
pub fn read_config(path: &str) -> Result<(String, String), Failure> {
    if path == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure::io(format!("reading standard input: {e}")))?;
        return Ok(("<stdin>".to_string(), s));
    }
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(s) => Ok((path.to_string(), s)),
            Err(e) => Err(Failure::invalid(format!(
                "{path}: not UTF-8 text (byte {})",
                e.utf8_error().valid_up_to()
            ))),
        },
        Err(e) => Err(Failure::io(format!("{path}: {e}"))),
    }
}

/// `NAME=VALUE` overrides of `define`d parameters.
pub fn parse_defines(items: &[String]) -> Result<Vec<(String, String)>, Failure> {
    items
        .iter()
        .map(|s| match s.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                Ok((k.trim_start_matches('$').to_string(), v.to_string()))
            }
            _ => Err(Failure {
                message: format!("'{s}' is not NAME=VALUE"),
                code: 2,
                already_reported: false,
            }),
        })
        .collect()
}
