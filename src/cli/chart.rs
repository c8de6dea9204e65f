//! The per-module profile as an SVG bar chart (`googlenet bench --svg FILE`), so a person sees at
//! a glance where the time goes.

use std::path::Path;

use plotters::prelude::*;

use googlenet::bench::Timed;
use googlenet::{Error, Result};

/// Draws one horizontal bar per row (its GPU milliseconds, labelled with share and GFLOP/s) into
/// `path`, written whole.
pub fn bar_chart(path: &Path, title: &str, rows: &[Timed]) -> Result<()> {
    let mut svg = String::new();
    draw(&mut svg, title, rows).map_err(|e| Error::file(path, format!("cannot draw the chart: {e}")))?;
    googlenet::files::write_atomic(path, svg.as_bytes())
}

fn draw(svg: &mut String, title: &str, rows: &[Timed]) -> std::result::Result<(), String> {
    let draw_error = |e: &dyn std::fmt::Display| e.to_string();
    let total: f64 = rows.iter().map(|r| r.ms).sum();
    let longest = rows.iter().map(|r| r.ms).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    let height = 80 + 34 * rows.len() as u32;
    let root = SVGBackend::with_string(svg, (900, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| draw_error(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(10)
        .build_cartesian_2d(0.0..longest * 1.6, 0.0..rows.len() as f64)
        .map_err(|e| draw_error(&e))?;
    let count = rows.len();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .disable_y_axis()
        .x_desc("GPU ms")
        .draw()
        .map_err(|e| draw_error(&e))?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            let y = (count - 1 - i) as f64;
            Rectangle::new([(0.0, y + 0.15), (r.ms, y + 0.85)], BLUE.mix(0.7).filled())
        }))
        .map_err(|e| draw_error(&e))?;
    chart
        .draw_series(rows.iter().enumerate().map(|(i, r)| {
            let y = (count - 1 - i) as f64 + 0.7;
            let share = 100.0 * r.ms / total.max(f64::MIN_POSITIVE);
            let name = r.name.trim_end_matches("/output");
            Text::new(format!("{name}: {:.1} ms, {share:.1}%, {:.2} GFLOP/s", r.ms, r.gflops), (r.ms + longest * 0.02, y), ("sans-serif", 13))
        }))
        .map_err(|e| draw_error(&e))?;
    root.present().map_err(|e| draw_error(&e))
}
