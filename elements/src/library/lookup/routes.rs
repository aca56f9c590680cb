//! What StaticIPLookup and RadixIPLookup share (Click's IPRouteTable): the route syntax, the table
//! (a list of routes for the handlers plus the [`Trie`] for lookups), the data path and the
//! handlers. `DYNAMIC` elements also take `add`, `set`, `remove`, `ctrl` and `flush`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use config_lang::args::{ArgError, ArgValue, Args, Ipv4Prefix};
use hashbrown::HashMap;

use super::trie::{Hop, Trie};
use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, HandlerSpec};
use crate::router::Context;

/// One route: packets to `addr/len` leave on `port`, with the destination annotation set to `gw`
/// when it is not 0.0.0.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    pub addr: u32,
    pub len: u8,
    pub gw: u32,
    pub port: u32,
}

fn mask(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - len as u32)
    }
}

impl core::fmt::Display for Route {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}/{} ", Ipv4Addr::from(self.addr), self.len)?;
        if self.gw == 0 {
            write!(f, "- ")?;
        } else {
            write!(f, "{} ", Ipv4Addr::from(self.gw))?;
        }
        write!(f, "{}", self.port)
    }
}

/// A parsed `ADDR/MASK [GATEWAY | -] OUTPUT`; for a removal OUTPUT may be missing (then only the
/// prefix has to match).
pub(crate) fn parse_route(text: &str, for_removal: bool) -> Option<(Route, bool)> {
    let mut words = text.split_whitespace();
    let p = Ipv4Prefix::parse_arg(words.next()?).ok()?;
    let addr = u32::from(p.addr) & mask(p.len);
    let mut gw = 0u32;
    let mut word = words.next();
    if let Some(w) = word {
        if w == "-" {
            word = words.next();
        } else if let Ok(g) = Ipv4Addr::parse_arg(w) {
            gw = u32::from(g);
            word = words.next();
        }
    }
    let (port, full) = match word {
        Some(w) => (u32::parse_arg(w).ok()?, true),
        None if for_removal => (0, false),
        None => return None,
    };
    if words.next().is_some() {
        return None;
    }
    Some((
        Route {
            addr,
            len: p.len,
            gw,
            port,
        },
        full,
    ))
}

/// The routes, in the order they were added (a removed route's place is reused), indexed by
/// prefix, and the trie that answers lookups.
#[derive(Default)]
pub struct RouteTable {
    routes: Vec<Option<Route>>,
    free: Vec<usize>,
    by_prefix: HashMap<(u32, u8), usize>,
    trie: Trie,
}

impl RouteTable {
    #[inline]
    pub fn lookup(&self, addr: u32) -> Option<Hop> {
        self.trie.lookup(addr)
    }

    /// Adds `r`; an existing route for the prefix is replaced if `replace`, else it is an error.
    /// Returns the replaced route.
    pub fn add(&mut self, r: Route, replace: bool) -> Result<Option<Route>, String> {
        let hop = Hop {
            port: r.port,
            gw: r.gw,
        };
        if let Some(&k) = self.by_prefix.get(&(r.addr, r.len)) {
            let old = self.routes[k].expect("indexed");
            if !replace {
                return Err(format!("conflict with existing route '{old}'"));
            }
            self.routes[k] = Some(r);
            self.trie.insert(r.addr, r.len as u32, hop);
            return Ok(Some(old));
        }
        let k = match self.free.pop() {
            Some(k) => {
                self.routes[k] = Some(r);
                k
            }
            None => {
                self.routes.push(Some(r));
                self.routes.len() - 1
            }
        };
        self.by_prefix.insert((r.addr, r.len), k);
        self.trie.insert(r.addr, r.len as u32, hop);
        Ok(None)
    }

    /// Removes the route for `r`'s prefix; if `exact`, its gateway and port must match too.
    pub fn remove(&mut self, r: &Route, exact: bool) -> Result<Route, String> {
        let not_found = || format!("route '{r}' not found");
        let &k = self.by_prefix.get(&(r.addr, r.len)).ok_or_else(not_found)?;
        let old = self.routes[k].expect("indexed");
        if exact && (old.gw != r.gw || old.port != r.port) {
            return Err(not_found());
        }
        self.by_prefix.remove(&(r.addr, r.len));
        self.routes[k] = None;
        self.free.push(k);
        self.trie.remove(r.addr, r.len as u32);
        Ok(old)
    }

    pub fn flush(&mut self) {
        *self = RouteTable::default();
    }

    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter().flatten()
    }
}

/// The element: `DYNAMIC` is RadixIPLookup (routes can change at run time), otherwise
/// StaticIPLookup.
#[derive(Default)]
pub struct IpRouteTable<const DYNAMIC: bool> {
    table: RouteTable,
    lookup_result: String,
    /// "No route" messages printed (Click prints the first five).
    complaints: u8,
}

const SYNTAX: &str = "'ADDR/MASK [GATEWAY] OUTPUT'";

impl<const DYNAMIC: bool> IpRouteTable<DYNAMIC> {
    fn command(&mut self, cmd: &str, text: &str, noutputs: usize) -> Result<Undo, String> {
        let removal = cmd == "remove";
        let (r, full) = parse_route(text, removal).ok_or_else(|| {
            if removal {
                String::from("expected 'ADDR/MASK [GATEWAY OUTPUT]'")
            } else {
                format!("expected {SYNTAX}")
            }
        })?;
        if full && r.port as usize >= noutputs {
            return Err(format!(
                "OUTPUT {} out of range (the element has {noutputs} outputs)",
                r.port
            ));
        }
        match cmd {
            "add" | "set" => Ok(match self.table.add(r, cmd == "set")? {
                Some(old) => Undo::Restore(old),
                None => Undo::Remove(r),
            }),
            _ => Ok(Undo::Restore(self.table.remove(&r, full)?)),
        }
    }

    fn undo(&mut self, u: Undo) {
        // Undoing a successful command cannot fail.
        let _ = match u {
            Undo::Remove(r) => self.table.remove(&r, false).map(|_| ()),
            Undo::Restore(r) => self.table.add(r, true).map(|_| ()),
        };
    }

    /// Click's `ctrl`: `add`/`set`/`remove` lines applied all or nothing.
    fn ctrl(&mut self, text: &str, noutputs: usize) -> Result<(), String> {
        let mut done: Vec<Undo> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (cmd, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let result = match cmd {
                "add" | "set" | "remove" => self.command(cmd, rest, noutputs),
                _ => Err(format!("bad command '{cmd}'")),
            };
            match result {
                Ok(u) => done.push(u),
                Err(e) => {
                    while let Some(u) = done.pop() {
                        self.undo(u);
                    }
                    return Err(format!("line {}: {e}", n + 1));
                }
            }
        }
        Ok(())
    }
}

/// How to take back one applied command.
enum Undo {
    Remove(Route),
    Restore(Route),
}

impl<const DYNAMIC: bool> Element for IpRouteTable<DYNAMIC> {
    fn configure(&mut self, args: &mut Args, cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        for (k, raw) in args.rest().into_iter().enumerate() {
            let n = k + 1;
            let Some((r, _)) = parse_route(&raw.text, false) else {
                return Err(ArgError::new(
                    "",
                    format!("argument {n} should be {SYNTAX}"),
                    Some(raw.range),
                ));
            };
            if r.port as usize >= cx.noutputs {
                return Err(ArgError::new(
                    "",
                    format!(
                        "argument {n} bad OUTPUT: {} (the element has {} outputs)",
                        r.port, cx.noutputs
                    ),
                    Some(raw.range),
                ));
            }
            // A later route for the same prefix replaces an earlier one, as in Click.
            let _ = self.table.add(r, true);
        }
        Ok(())
    }

    fn push(&mut self, _port: usize, batch: Batch, cx: &mut Context<'_>) {
        let table = &self.table;
        let mut missed = None;
        cx.classify(batch, |p| {
            let dst = p.anno().dst_ip;
            match table.lookup(u32::from(dst)) {
                Some(h) => {
                    if h.gw != 0 {
                        p.anno_mut().dst_ip = Ipv4Addr::from(h.gw);
                    }
                    Some(h.port as usize)
                }
                None => {
                    missed.get_or_insert(dst);
                    None
                }
            }
        });
        if let Some(dst) = missed {
            if self.complaints < 5 {
                self.complaints += 1;
                let line = format!("{}: no route for {dst}", cx.name());
                cx.platform().print(&line);
            }
        }
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const STATIC: &[HandlerSpec] = &[
            HandlerSpec::read("table"),
            HandlerSpec::read_write("lookup"),
        ];
        const DYN: &[HandlerSpec] = &[
            HandlerSpec::read("table"),
            HandlerSpec::read_write("lookup"),
            HandlerSpec::write("add"),
            HandlerSpec::write("set"),
            HandlerSpec::write("remove"),
            HandlerSpec::write("ctrl"),
            HandlerSpec::write("flush"),
        ];
        if DYNAMIC {
            DYN
        } else {
            STATIC
        }
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        match name {
            "table" => Some(
                self.table
                    .routes()
                    .map(|r| {
                        let gw = if r.gw == 0 {
                            String::from("-")
                        } else {
                            format!("{}", Ipv4Addr::from(r.gw))
                        };
                        format!("{}/{}\t{gw}\t{}\n", Ipv4Addr::from(r.addr), r.len, r.port)
                    })
                    .collect(),
            ),
            "lookup" => Some(self.lookup_result.clone()),
            _ => None,
        }
    }

    fn write_handler(
        &mut self,
        name: &str,
        value: &str,
        cx: &mut Context<'_>,
    ) -> Result<(), String> {
        let noutputs = cx.noutputs();
        match name {
            "lookup" => {
                let a = Ipv4Addr::parse_arg(value)
                    .map_err(|_| format!("expected IP address, not '{}'", value.trim()))?;
                self.lookup_result = match self.table.lookup(u32::from(a)) {
                    Some(h) if h.gw != 0 => format!("{} {}", h.port, Ipv4Addr::from(h.gw)),
                    Some(h) => format!("{}", h.port),
                    None => String::from("-1"),
                };
                Ok(())
            }
            "add" | "set" | "remove" if DYNAMIC => self.command(name, value, noutputs).map(|_| ()),
            "ctrl" if DYNAMIC => self.ctrl(value, noutputs),
            "flush" if DYNAMIC => {
                self.table.flush();
                Ok(())
            }
            _ => Err(format!("no write handler '{name}'")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn route_syntax() {
        let r = |s| parse_route(s, false).map(|(r, _)| r.to_string());
        assert_eq!(r("10.0.0.0/8 1").as_deref(), Some("10.0.0.0/8 - 1"));
        assert_eq!(r("10.1.2.3/8 - 1").as_deref(), Some("10.0.0.0/8 - 1"));
        assert_eq!(
            r("18.26.4/24 18.26.4.1 2").as_deref(),
            Some("18.26.4.0/24 18.26.4.1 2")
        );
        assert_eq!(r("0/0 10.0.0.1 0").as_deref(), Some("0.0.0.0/0 10.0.0.1 0"));
        assert_eq!(
            r("10.0.0.0/255.255.0.0 3").as_deref(),
            Some("10.0.0.0/16 - 3")
        );
        assert_eq!(r("10.0.0.1 0").as_deref(), Some("10.0.0.1/32 - 0"));
        for bad in [
            "",
            "10.0.0.0/8",
            "10.0.0.0/8 1 2",
            "x 1",
            "10.0.0.0/8 -",
            "10/8 -1",
        ] {
            assert_eq!(r(bad), None, "{bad}");
        }
        assert_eq!(
            parse_route("10.0.0.0/8", true).map(|(r, full)| (r.addr, full)),
            Some((0x0a00_0000, false))
        );
    }

    #[test]
    fn table_add_replace_remove() {
        let mut t = RouteTable::default();
        let r = |addr, len, port| Route {
            addr,
            len,
            gw: 0,
            port,
        };
        assert_eq!(t.add(r(0x0a00_0000, 8, 1), false), Ok(None));
        assert!(t.add(r(0x0a00_0000, 8, 2), false).is_err());
        assert_eq!(
            t.add(r(0x0a00_0000, 8, 2), true),
            Ok(Some(r(0x0a00_0000, 8, 1)))
        );
        assert_eq!(t.lookup(0x0a01_0101).map(|h| h.port), Some(2));
        assert!(t.remove(&r(0x0a00_0000, 8, 1), true).is_err());
        assert_eq!(
            t.remove(&r(0x0a00_0000, 8, 0), false),
            Ok(r(0x0a00_0000, 8, 2))
        );
        assert_eq!(t.lookup(0x0a01_0101), None);
        assert_eq!(t.routes().count(), 0);
    }
}
