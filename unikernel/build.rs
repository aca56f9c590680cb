//! Links the guest binary (target_os = "none") with `link.ld`: a non-PIE image placed from
//! virtual address 0, as Xen's PV loader expects (see shared/notes/xen-test-host.md).
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=link.ld");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "none" {
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
        for arg in [
            format!("-T{dir}/link.ld"),
            "--no-pie".into(),
            "-z".into(),
            "max-page-size=4096".into(),
            "--build-id=none".into(),
            "-z".into(),
            "norelro".into(),
        ] {
            println!("cargo:rustc-link-arg-bins={arg}");
        }
    }
}
