//! Handlers: reading and writing element state by name (`counter.count`), plus every element's
//! defaults (`name`, `class`, `config`, `ports`, `handlers`) and the router's own (`version`,
//! `config`, `flatconfig`, `list`, `classes`, `stop`).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{Context, Router};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

const ELEMENT_DEFAULTS: &[&str] = &["name", "class", "config", "ports", "handlers"];
const ROUTER_READ: &[&str] = &["version", "config", "flatconfig", "list", "classes"];

/// Why a handler call failed, with what the caller can use instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandlerError {
    NoElement {
        element: String,
        elements: Vec<String>,
    },
    NoHandler {
        element: String,
        handler: String,
        handlers: Vec<String>,
    },
    NotReadable(String),
    NotWritable(String),
    Rejected {
        handler: String,
        reason: String,
    },
}

impl core::fmt::Display for HandlerError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            HandlerError::NoElement { element, elements } => {
                write!(
                    f,
                    "no element named '{element}'; elements: {}",
                    elements.join(", ")
                )
            }
            HandlerError::NoHandler {
                element,
                handler,
                handlers,
            } => {
                write!(
                    f,
                    "element '{element}' has no handler '{handler}'; its handlers: {}",
                    handlers.join(", ")
                )
            }
            HandlerError::NotReadable(h) => write!(f, "handler '{h}' is write-only"),
            HandlerError::NotWritable(h) => write!(f, "handler '{h}' is read-only"),
            HandlerError::Rejected { handler, reason } => {
                write!(f, "write to '{handler}' rejected: {reason}")
            }
        }
    }
}

impl Router {
    /// Handler names of an element: its own, then the defaults.
    pub fn handler_names(&self, e: usize) -> Vec<String> {
        let mut v: Vec<String> = self.slots[e]
            .as_ref()
            .map(|el| el.handlers().iter().map(|h| h.name.to_string()).collect())
            .unwrap_or_default();
        v.extend(ELEMENT_DEFAULTS.iter().map(|s| s.to_string()));
        v
    }

    fn split<'a>(&self, full: &'a str) -> (Option<&'a str>, &'a str) {
        match full.rsplit_once('.') {
            Some((e, h)) => (Some(e), h),
            None => (None, full),
        }
    }

    fn element_index(&self, name: &str) -> Result<usize, HandlerError> {
        self.find(name).ok_or_else(|| HandlerError::NoElement {
            element: name.to_string(),
            elements: self.info.iter().map(|i| i.name.clone()).collect(),
        })
    }

    /// Reads `element.handler`, or a router handler (`list`, `config`, ...).
    pub fn read_handler(&self, full: &str) -> Result<String, HandlerError> {
        let (elem, h) = self.split(full);
        let Some(elem) = elem else {
            return match h {
                "version" => Ok(VERSION.to_string()),
                "config" => Ok(self.source_config.clone()),
                "flatconfig" => Ok(self.flat_config.clone()),
                "list" => {
                    let mut s = format!("{}\n", self.info.len());
                    for i in &self.info {
                        s += &i.name;
                        s.push('\n');
                    }
                    Ok(s)
                }
                "classes" => {
                    let mut v: Vec<&str> = self.info.iter().map(|i| i.class).collect();
                    v.sort_unstable();
                    v.dedup();
                    Ok(v.join("\n") + "\n")
                }
                "stop" => Err(HandlerError::NotReadable("stop".into())),
                _ => Err(HandlerError::NoHandler {
                    element: String::new(),
                    handler: h.to_string(),
                    handlers: ROUTER_READ
                        .iter()
                        .chain(["stop"].iter())
                        .map(|s| s.to_string())
                        .collect(),
                }),
            };
        };
        let e = self.element_index(elem)?;
        let info = &self.info[e];
        match h {
            "name" => return Ok(info.name.clone()),
            "class" => return Ok(info.class.to_string()),
            "config" => return Ok(info.config.clone()),
            "ports" => return Ok(super::build::ports_text(self, e)),
            "handlers" => {
                let el = self.slots[e].as_ref().expect("present");
                let mut s = String::new();
                for spec in el.handlers() {
                    s += &format!(
                        "{}\t{}{}\n",
                        spec.name,
                        if spec.read { "r" } else { "" },
                        if spec.write { "w" } else { "" }
                    );
                }
                for d in ELEMENT_DEFAULTS {
                    s += &format!("{d}\tr\n");
                }
                return Ok(s);
            }
            _ => {}
        }
        let el = self.slots[e].as_ref().expect("present");
        match el.handlers().iter().find(|s| s.name == h) {
            Some(spec) if spec.read => el
                .read_handler(h)
                .ok_or_else(|| HandlerError::NotReadable(full.to_string())),
            Some(_) => Err(HandlerError::NotReadable(full.to_string())),
            None => Err(HandlerError::NoHandler {
                element: elem.to_string(),
                handler: h.to_string(),
                handlers: self.handler_names(e),
            }),
        }
    }

    /// Writes `element.handler` (or the router's `stop`).
    pub fn write_handler(&mut self, full: &str, value: &str) -> Result<(), HandlerError> {
        let (elem, h) = self.split(full);
        let Some(elem) = elem else {
            return match h {
                "stop" => {
                    self.stop();
                    Ok(())
                }
                _ if ROUTER_READ.contains(&h) => Err(HandlerError::NotWritable(h.to_string())),
                _ => Err(HandlerError::NoHandler {
                    element: String::new(),
                    handler: h.to_string(),
                    handlers: alloc::vec!["stop".into()],
                }),
            };
        };
        let e = self.element_index(elem)?;
        if ELEMENT_DEFAULTS.contains(&h) {
            return Err(HandlerError::NotWritable(full.to_string()));
        }
        let mut el = self.slots[e].take().expect("present");
        let writable = el.handlers().iter().find(|s| s.name == h).map(|s| s.write);
        let result = match writable {
            Some(true) => {
                let mut cx =
                    Context::new(e, &mut self.slots, &self.topo, &mut self.core, &self.info);
                el.write_handler(h, value, &mut cx)
                    .map_err(|reason| HandlerError::Rejected {
                        handler: full.to_string(),
                        reason,
                    })
            }
            Some(false) => Err(HandlerError::NotWritable(full.to_string())),
            None => Err(HandlerError::NoHandler {
                element: elem.to_string(),
                handler: h.to_string(),
                handlers: Vec::new(),
            }),
        };
        self.slots[e] = Some(el);
        match result {
            Err(HandlerError::NoHandler {
                element, handler, ..
            }) => Err(HandlerError::NoHandler {
                element,
                handler,
                handlers: self.handler_names(e),
            }),
            other => {
                self.run_pushes();
                other
            }
        }
    }
}
