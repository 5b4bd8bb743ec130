//! Link libxml2 for the XSD layer (`src/xsd.rs`), found with pkg-config (Debian/Ubuntu:
//! `apt-get install libxml2-dev pkg-config`).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if let Err(e) = pkg_config::Config::new()
        .atleast_version("2.9")
        .probe("libxml-2.0")
    {
        // Without pkg-config, try the system linker path; if that fails too, the link error
        // follows this hint.
        println!(
            "cargo:warning=libxml2 not found with pkg-config ({e}); install libxml2-dev and pkg-config. Trying -lxml2."
        );
        println!("cargo:rustc-link-lib=xml2");
    }
}
