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

/// Loads and fully checks a configuration file before it is sent to a guest; errors are
/// printed with file:line:col and nothing else happens. Returns the name to show and the text
/// the guest gets: the file as written (so the guest's line:col match it), or, when `defines`
/// override parameters, the flattened configuration with them applied.
pub fn load_for_guest(file: &str, defines: &[String]) -> Result<(String, String), Failure> {
    let a = ConfigArgs {
        file: file.to_string(),
        defines: defines.to_vec(),
    };
    let loaded = load_checked(&a)?;
    let text = loaded.sources.file(config_lang::FileId(0)).text.clone();
    validate(&loaded, &text)?;
    let name = loaded.sources.file(config_lang::FileId(0)).name.clone();
    if defines.is_empty() {
        Ok((name, text))
    } else {
        Ok((name, loaded.graph.as_ref().expect("no errors").to_click()))
    }
}
