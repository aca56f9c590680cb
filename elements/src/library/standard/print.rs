//! Print — prints a line per packet: label, length and the first bytes in hex; passes the packet on.
//!
//! Ports: 1 input, 1 output.
//! Processing: agnostic.
//! Arguments: LABEL (string, default empty), MAXLENGTH (unsigned, default 24; -1 = all bytes),
//! keyword CONTENTS (`hex` (default), `ascii`, `false`), TIMESTAMP (boolean, default false),
//! PAINT (boolean, default false), ACTIVE (boolean, default true).
//! Handlers: `active` (read/write).

use alloc::string::{String, ToString};
use core::fmt::Write;

use config_lang::args::{ArgError, ArgValue, Args, Word};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec};
use crate::packet::Packet;
use crate::router::Context;

pub const CLASS: ElementClass = super::element_class!("Print", "1/1", "a/a", Print);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Contents {
    Hex,
    Ascii,
    None,
}

pub struct Print {
    label: String,
    maxlength: Option<usize>,
    contents: Contents,
    timestamp: bool,
    paint: bool,
    active: bool,
    line: String,
}

impl Default for Print {
    fn default() -> Self {
        Print {
            label: String::new(),
            maxlength: Some(24),
            contents: Contents::Hex,
            timestamp: false,
            paint: false,
            active: true,
            line: String::new(),
        }
    }
}

impl Print {
    /// Formats into a reused line buffer: no allocation per packet once it has grown.
    fn format(&mut self, p: &Packet) {
        let l = &mut self.line;
        l.clear();
        if self.timestamp {
            let ns = p.anno().timestamp_ns;
            let _ = write!(
                l,
                "{}.{:06}: ",
                ns / 1_000_000_000,
                (ns % 1_000_000_000) / 1000
            );
        }
        if !self.label.is_empty() {
            let _ = write!(l, "{}: ", self.label);
        }
        if self.paint {
            let _ = write!(l, "paint {}: ", p.anno().paint);
        }
        let _ = write!(l, "{:4}", p.len());
        let shown = &p.data()[..self.maxlength.map_or(p.len(), |m| m.min(p.len()))];
        match self.contents {
            Contents::None => {}
            Contents::Hex => {
                l.push_str(" | ");
                for (i, b) in shown.iter().enumerate() {
                    if i > 0 && i % 4 == 0 {
                        l.push(' ');
                    }
                    let _ = write!(l, "{b:02x}");
                }
            }
            Contents::Ascii => {
                l.push_str(" | ");
                l.extend(shown.iter().map(|&b| {
                    if (0x20..0x7f).contains(&b) {
                        b as char
                    } else {
                        '.'
                    }
                }));
            }
        }
    }
}

impl Element for Print {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        self.label = args.read_p::<String>("LABEL")?.unwrap_or_default();
        if let Some(m) = args.read_p::<i64>("MAXLENGTH")? {
            self.maxlength = (m >= 0).then_some(m as usize);
        }
        if let Some(Word(c)) = args.read::<Word>("CONTENTS")? {
            self.contents = match c.as_str() {
                "hex" | "true" => Contents::Hex,
                "ascii" => Contents::Ascii,
                "false" | "none" => Contents::None,
                other => {
                    return Err(ArgError::new(
                        "CONTENTS",
                        alloc::format!("'{other}' is not hex, ascii or false"),
                        None,
                    ))
                }
            };
        }
        self.timestamp = args.read_or("TIMESTAMP", false)?;
        self.paint = args.read_or("PAINT", false)?;
        self.active = args.read_or("ACTIVE", true)?;
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        if self.active {
            for p in batch.iter() {
                self.format(p);
                cx.platform().print(&self.line);
            }
        }
        cx.push(0, batch);
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[HandlerSpec::read_write("active")];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        (name == "active").then(|| self.active.to_string())
    }

    fn write_handler(
        &mut self,
        _name: &str,
        value: &str,
        _cx: &mut Context<'_>,
    ) -> Result<(), String> {
        self.active = bool::parse_arg(value)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn click_style_lines() {
        let mut pr = Print {
            label: "in".into(),
            maxlength: Some(6),
            ..Print::default()
        };
        pr.format(&Packet::from_slice(&[0, 1, 2, 3, 4, 5, 6, 7]));
        assert_eq!(pr.line, "in:    8 | 00010203 0405");
        pr.contents = Contents::Ascii;
        pr.format(&Packet::from_slice(b"hi\x00there"));
        assert_eq!(pr.line, "in:    8 | hi.the");
    }
}
