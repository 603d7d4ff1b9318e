//! Writes the sample captures of `captures/` (or of the folder given).
//!
//! Usage: `cargo run --example gen_captures [DIR]`

#[path = "../tests/capture_gen/mod.rs"]
mod capture_gen;

fn main() -> std::io::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/captures").to_string());
    for path in capture_gen::write_all(std::path::Path::new(&dir))? {
        println!("{}", path.display());
    }
    Ok(())
}
