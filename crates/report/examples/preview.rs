//! Writes the sample run and find-limit reports as HTML to eyeball them:
//! `cargo run -p report --example preview [DIR]` (default `target`), then open
//! `DIR/report-example.html` and `DIR/limit-example.html`.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target".to_owned()),
    );
    std::fs::create_dir_all(&dir)?;
    let run = report::testing::sample_run();
    std::fs::write(dir.join("report-example.html"), report::html(&run))?;
    std::fs::write(
        dir.join("report-example.json"),
        serde_json::to_string_pretty(&run).map_err(std::io::Error::other)?,
    )?;
    let limit = report::testing::sample_limit();
    std::fs::write(dir.join("limit-example.html"), report::limit_html(&limit))?;
    eprint!(
        "{}\n{}",
        report::summary(&run),
        report::limit_summary(&limit)
    );
    eprintln!("wrote {}", dir.join("report-example.html").display());
    Ok(())
}
