//! `check`, `flatten`, `graph`: commands on a configuration file, no Xen needed.

use clap::Args;
use config_lang::{load, Loaded};

use crate::input::{parse_defines, read_config};
use crate::Failure;

#[derive(Args)]
pub struct ConfigArgs {
    /// Configuration file; '-' reads standard input.
    pub file: String,
    /// Override a define()d parameter, as Click's NAME=VALUE.
    #[arg(value_name = "NAME=VALUE")]
    pub defines: Vec<String>,
}

/// Loads and validates; prints diagnostics (errors and warnings) to standard error.
fn load_checked(a: &ConfigArgs) -> Result<Loaded, Failure> {
    let (name, text) = read_config(&a.file)?;
    let defines = parse_defines(&a.defines)?;
    let loaded = load(&name, &text, &defines);
    if !loaded.diagnostics.is_empty() {
        eprint!("{}", loaded.render_diagnostics());
    }
    if loaded.has_errors() {
        return Err(Failure::reported());
    }
    Ok(loaded)
}

/// What `check` adds to parsing: every class exists, port counts and push/pull fit, and every
/// element accepts its arguments — all without opening devices or files.
fn validate(loaded: &Loaded, text: &str) -> Result<(), Failure> {
    let g = loaded.graph.as_ref().expect("no errors");
    match elements::router::build(g, &elements::library::registry(), None, text) {
        Ok(_) => Ok(()),
        Err(e) => {
            eprint!(
                "{}",
                config_lang::diag::render_all(&e.diagnostics, &loaded.sources)
            );
            Err(Failure::reported())
        }
    }
}

pub fn check(a: &ConfigArgs) -> Result<(), Failure> {
    let loaded = load_checked(a)?;
    validate(&loaded, &loaded.sources.file(config_lang::FileId(0)).text)?;
    let g = loaded.graph.as_ref().expect("no errors");
    println!(
        "{}: ok ({} elements, {} connections)",
        loaded.sources.file(config_lang::FileId(0)).name,
        g.elements.len(),
        g.connections.len()
    );
    Ok(())
}

pub fn flatten(a: &ConfigArgs) -> Result<(), Failure> {
    let loaded = load_checked(a)?;
    print!("{}", loaded.graph.as_ref().expect("no errors").to_click());
    Ok(())
}

pub fn graph(a: &ConfigArgs) -> Result<(), Failure> {
    let loaded = load_checked(a)?;
    print!("{}", loaded.graph.as_ref().expect("no errors").to_dot());
    Ok(())
}
