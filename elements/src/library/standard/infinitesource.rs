//! InfiniteSource — generates copies of one packet, as fast as it is scheduled (or pulled).
//!
//! Ports: no inputs, 1 output.
//! Processing: agnostic: pushes from its task, or answers pulls.
//! Arguments: DATA (string, default 64 bytes of text), LIMIT (integer, -1 = no limit; default -1),
//! BURST (unsigned, packets per task run; default 1), ACTIVE (boolean, default true), keyword
//! LENGTH (unsigned: pad or cut DATA to this many bytes), STOP (boolean: stop the router when LIMIT
//! is reached; default false).
//! Handlers: `count` (read) packets sent; `reset` (write) zero the count and start again; `data`,
//! `limit`, `burst`, `active` (read/write).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use config_lang::args::{ArgError, Args, HexData};

use crate::batch::Batch;
use crate::element::{ConfigureContext, Element, ElementClass, HandlerSpec, InitContext};
use crate::router::Context;

pub const CLASS: ElementClass =
    super::element_class!("InfiniteSource", "0/1", "a/a", InfiniteSource);

const DEFAULT_DATA: &[u8] =
    b"Random bullshit in a packet, at least 64 bytes long. Well, now it is.";

pub struct InfiniteSource {
    data: Vec<u8>,
    limit: i64,
    burst: usize,
    active: bool,
    stop: bool,
    count: u64,
}

impl Default for InfiniteSource {
    fn default() -> Self {
        InfiniteSource {
            data: DEFAULT_DATA[..64].to_vec(),
            limit: -1,
            burst: 1,
            active: true,
            stop: false,
            count: 0,
        }
    }
}

impl InfiniteSource {
    /// How many to send now: the burst, capped by what LIMIT leaves.
    fn quota(&self, max: usize) -> usize {
        let n = self.burst.min(max);
        if self.limit < 0 {
            return n;
        }
        n.min((self.limit as u64).saturating_sub(self.count) as usize)
    }

    fn make(&mut self, n: usize, cx: &mut Context<'_>) -> Batch {
        let mut b = cx.new_batch();
        let pool = cx.pool();
        for _ in 0..n {
            b.push(pool.make_from(&self.data));
        }
        self.count += n as u64;
        b
    }

    fn finished(&mut self, cx: &mut Context<'_>) {
        cx.sleep();
        if self.stop {
            cx.stop_router();
        }
    }
}

impl Element for InfiniteSource {
    fn configure(&mut self, args: &mut Args, _cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        if let Some(d) = args.read_p::<HexData>("DATA")? {
            self.data = d.0;
        }
        self.limit = args.read_p::<i64>("LIMIT")?.unwrap_or(-1);
        self.burst = args.read_p::<usize>("BURST")?.unwrap_or(1);
        self.active = args.read_p::<bool>("ACTIVE")?.unwrap_or(true);
        self.stop = args.read_or("STOP", false)?;
        if let Some(len) = args
            .read::<usize>("LENGTH")?
            .or(args.read::<usize>("DATASIZE")?)
        {
            self.data.resize(len, 0);
        }
        if self.burst == 0 {
            return Err(ArgError::new("BURST", "must be at least 1", None));
        }
        Ok(())
    }

    fn initialize(&mut self, cx: &mut InitContext<'_>) -> Result<(), String> {
        // In pull mode the puller drives it; the task is for push mode only.
        if cx.output_is_push(0) {
            cx.add_task(self.active);
        }
        Ok(())
    }

    fn run_task(&mut self, cx: &mut Context<'_>) -> bool {
        let n = self.quota(usize::MAX);
        if n == 0 {
            self.finished(cx);
            return false;
        }
        let b = self.make(n, cx);
        cx.push(0, b);
        if self.quota(1) == 0 {
            self.finished(cx);
        }
        true
    }

    fn pull(&mut self, _port: usize, max: usize, cx: &mut Context<'_>) -> Option<Batch> {
        if !self.active {
            return None;
        }
        let n = self.quota(max);
        if n == 0 {
            self.finished(cx);
            return None;
        }
        Some(self.make(n, cx))
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        const H: &[HandlerSpec] = &[
            HandlerSpec::read("count"),
            HandlerSpec::write("reset"),
            HandlerSpec::read_write("data"),
            HandlerSpec::read_write("limit"),
            HandlerSpec::read_write("burst"),
            HandlerSpec::read_write("active"),
        ];
        H
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        Some(match name {
            "count" => self.count.to_string(),
            "data" => String::from_utf8_lossy(&self.data).into_owned(),
            "limit" => self.limit.to_string(),
            "burst" => self.burst.to_string(),
            "active" => self.active.to_string(),
            _ => return None,
        })
    }

    fn write_handler(
        &mut self,
        name: &str,
        value: &str,
        cx: &mut Context<'_>,
    ) -> Result<(), String> {
        use config_lang::args::ArgValue;
        match name {
            "reset" => self.count = 0,
            "data" => self.data = HexData::parse_arg(value)?.0,
            "limit" => self.limit = i64::parse_arg(value)?,
            "burst" => self.burst = usize::parse_arg(value)?.max(1),
            "active" => self.active = bool::parse_arg(value)?,
            _ => return Err("no such handler".into()),
        }
        if self.active && self.quota(1) > 0 {
            cx.reschedule();
        } else {
            cx.sleep();
        }
        Ok(())
    }
}
