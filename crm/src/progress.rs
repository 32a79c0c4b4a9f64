//! Progress of long CLI tasks (migrating tenants now, imports later). On a terminal a bar with a
//! rate and an estimate is redrawn in place on stderr; anywhere else (CI logs, `| tee`) nothing
//! is drawn, and the task prints its plain summary line when it ends.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar labelled `task`; its length is set once the task knows how much there is.
pub fn bar(task: &'static str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{msg}: {wide_bar} {pos}/{len} ({per_sec}, {eta} left)")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(task);
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}
