//! What `spotlab alarms` and `spotlab topics` share: showing a view once or every few
//! seconds (`--watch`), as text for people or JSON for programs, and aligning columns.
//! Fetching and rendering a view are each command's own; nothing here calls a service.

use std::future::Future;
use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use serde::Serialize;

use crate::cli::Format;

/// How to show a view.
pub struct Show<'a> {
    /// The command, for the header of a refreshed view (`spotlab alarms`).
    pub title: &'a str,
    /// Where its data comes from, for the same header.
    pub source: &'a str,
    /// Refresh this often, until interrupted; once if `None`.
    pub watch: Option<Duration>,
    /// Text or JSON.
    pub format: Format,
}

/// Fetches the view's data and prints it, once or every `show.watch`. Text is
/// `text(&data)`; JSON is the data itself, pretty once, one line per refresh when
/// watching. Watching on a terminal redraws the screen under a header line; elsewhere
/// each refresh follows the last. A failed fetch ends a single view with its error, and
/// is reported on stderr when watching (the next refresh tries again).
pub async fn show<T, F, Fut>(
    show: &Show<'_>,
    mut fetch: F,
    text: impl Fn(&T) -> String,
) -> anyhow::Result<()>
where
    T: Serialize,
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let Some(every) = show.watch else {
        let data = fetch().await?;
        let rendered = match show.format {
            Format::Text => text(&data),
            Format::Json => serde_json::to_string_pretty(&data)? + "\n",
        };
        return print(&rendered);
    };
    let redraw = show.format == Format::Text && std::io::stdout().is_terminal();
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let data = match fetch().await {
            Ok(data) => data,
            Err(error) => {
                eprintln!("spotlab: {error:#}");
                continue;
            }
        };
        let rendered = match show.format {
            Format::Json => serde_json::to_string(&data)? + "\n",
            Format::Text if redraw => format!(
                "\x1b[2J\x1b[HEvery {}s: {} at {}  ({})\n\n{}",
                every.as_secs_f64(),
                show.title,
                show.source,
                wall_clock(),
                text(&data)
            ),
            Format::Text => text(&data) + "\n",
        };
        print(&rendered)?;
    }
}

fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// The wall clock in UTC, to the second.
fn wall_clock() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    simtime::SimTime::from_millis(u64::try_from(now.as_millis()).unwrap_or(u64::MAX))
        .to_iso_seconds()
}

/// `rows` under `headers`, columns separated by two spaces and padded to their widest
/// cell (the last column is not padded), one line each.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (index, (cell, width)) in row.iter().zip(&widths).enumerate() {
            if index > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            if index + 1 < row.len() {
                let pad = width.saturating_sub(cell.chars().count());
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let rows = vec![
            vec!["a-long-name".to_owned(), "OK".to_owned(), "why".to_owned()],
            vec!["b".to_owned(), "ALARM".to_owned(), String::new()],
        ];
        assert_eq!(
            table(&["NAME", "STATE", "REASON"], &rows),
            "NAME         STATE  REASON\n\
             a-long-name  OK     why\n\
             b            ALARM\n"
        );
    }
}
