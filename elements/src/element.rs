//! The element interface: what every element class implements.
//!
//! An element is configured once from its configuration string, initialized once the whole router
//! exists, and then called by the router: `push` with a batch arriving on an input, `pull` when a
//! downstream element asks for packets, `run_task` when its task is scheduled, `run_timer` when
//! its timer fires. It talks back to the router only through the [`Context`] it is given.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use config_lang::args::{ArgError, Args};

use crate::batch::Batch;
use crate::router::Context;

/// What an element learns while being configured.
pub struct ConfigureContext<'a> {
    pub name: &'a str,
    pub ninputs: usize,
    pub noutputs: usize,
    /// The whole flat router graph, when the element is configured as part of one: lets an
    /// element read another's configuration (IPRewriter finds IPRewriterPatterns' named patterns),
    /// the way Click elements look each other up by name.
    pub graph: Option<&'a config_lang::FlatGraph>,
}

impl<'a> ConfigureContext<'a> {
    /// The element called `name` in the router (name, class, configuration string).
    pub fn find_element(&self, name: &str) -> Option<&'a config_lang::FlatElement> {
        let g = self.graph?;
        g.elements.iter().find(|e| e.name == name)
    }

    /// Every element of class `class` in the router, in declaration order.
    pub fn elements_of_class<'s>(
        &'s self,
        class: &'s str,
    ) -> impl Iterator<Item = &'a config_lang::FlatElement> + 's {
        self.graph
            .into_iter()
            .flat_map(|g| g.elements.iter())
            .filter(move |e| e.class == class)
    }
}

/// What an element may do while being initialized: ask for a task or a timer, reach the platform.
pub struct InitContext<'a> {
    pub(crate) name: &'a str,
    pub(crate) want_task: bool,
    pub(crate) task_active: bool,
    pub(crate) timer_at: Option<u64>,
    pub(crate) platform: &'a mut dyn crate::platform::Platform,
    pub(crate) output_push: &'a [bool],
    pub(crate) input_push: &'a [bool],
}

impl InitContext<'_> {
    /// Gives the element a task, scheduled from the start if `active`.
    pub fn add_task(&mut self, active: bool) {
        self.want_task = true;
        self.task_active = active;
    }

    /// Fires the element's timer at `at_ns` (platform time).
    pub fn schedule_timer(&mut self, at_ns: u64) {
        self.timer_at = Some(at_ns);
    }

    pub fn platform(&mut self) -> &mut dyn crate::platform::Platform {
        self.platform
    }

    pub fn now_ns(&self) -> u64 {
        self.platform.now_ns()
    }

    pub fn name(&self) -> &str {
        self.name
    }

    /// Whether input `port` was resolved to push (false: pull).
    pub fn input_is_push(&self, port: usize) -> bool {
        self.input_push.get(port).copied().unwrap_or(true)
    }

    /// Whether output `port` was resolved to push (false: pull).
    pub fn output_is_push(&self, port: usize) -> bool {
        self.output_push.get(port).copied().unwrap_or(true)
    }
}

/// A handler an element offers: `c.count` (read), `c.reset` (write).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandlerSpec {
    pub name: &'static str,
    pub read: bool,
    pub write: bool,
}

impl HandlerSpec {
    pub const fn read(name: &'static str) -> HandlerSpec {
        HandlerSpec {
            name,
            read: true,
            write: false,
        }
    }
    pub const fn write(name: &'static str) -> HandlerSpec {
        HandlerSpec {
            name,
            read: false,
            write: true,
        }
    }
    pub const fn read_write(name: &'static str) -> HandlerSpec {
        HandlerSpec {
            name,
            read: true,
            write: true,
        }
    }
}

pub trait Element {
    /// Reads the configuration string. The router checks afterwards that every argument was read.
    fn configure(&mut self, args: &mut Args, cx: &ConfigureContext<'_>) -> Result<(), ArgError> {
        let _ = (args, cx);
        Ok(())
    }

    fn initialize(&mut self, cx: &mut InitContext<'_>) -> Result<(), String> {
        let _ = cx;
        Ok(())
    }

    /// A batch arrived on input `port`. Agnostic elements implement only this: the router also uses
    /// it to serve pulls, taking what the element emits on the pulled output.
    fn push(&mut self, port: usize, batch: Batch, cx: &mut Context<'_>) {
        let _ = port;
        cx.kill_batch(batch);
    }

    /// Up to `max` packets for output `port`; only elements whose class declares pull outputs
    /// (`l`) implement this.
    fn pull(&mut self, port: usize, max: usize, cx: &mut Context<'_>) -> Option<Batch> {
        let _ = (port, max, cx);
        None
    }

    /// The element's task ran; returns whether it did any work.
    fn run_task(&mut self, cx: &mut Context<'_>) -> bool {
        let _ = cx;
        false
    }

    fn run_timer(&mut self, cx: &mut Context<'_>) {
        let _ = cx;
    }

    fn handlers(&self) -> &'static [HandlerSpec] {
        &[]
    }

    fn read_handler(&self, name: &str) -> Option<String> {
        let _ = name;
        None
    }

    fn write_handler(
        &mut self,
        name: &str,
        value: &str,
        cx: &mut Context<'_>,
    ) -> Result<(), String> {
        let _ = (value, cx);
        Err(alloc::format!("handler '{name}' is not writable"))
    }

    /// Called once when the router stops, e.g. to flush a file.
    fn cleanup(&mut self, cx: &mut Context<'_>) {
        let _ = cx;
    }
}

/// How the registry makes an element of a class.
pub type Constructor = fn() -> Box<dyn Element>;

/// A class in the registry: its name, port counts, processing and constructor.
#[derive(Clone, Copy)]
pub struct ElementClass {
    pub name: &'static str,
    /// Click's port-count spec: `1/1`, `0/1`, `1/-`, `1-2/1`, `-/-`, `1/=`.
    pub ports: &'static str,
    /// Click's processing spec per port: `a/a`, `h/h`, `h/l`, `l/h`, `a/ah`.
    pub processing: &'static str,
    pub make: Constructor,
}

/// The set of classes a router can instantiate.
#[derive(Clone, Default)]
pub struct Registry {
    classes: Vec<ElementClass>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    pub fn add(&mut self, c: ElementClass) {
        self.classes.retain(|k| k.name != c.name);
        self.classes.push(c);
    }

    /// Registers `alias` as another name of `class` (e.g. FromDevice for FromNetfront in the guest).
    pub fn alias(&mut self, alias: &'static str, class: &str) {
        if let Some(c) = self.get(class).copied() {
            self.add(ElementClass { name: alias, ..c });
        }
    }

    pub fn get(&self, name: &str) -> Option<&ElementClass> {
        self.classes.iter().find(|c| c.name == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.classes.iter().map(|c| c.name)
    }
}
