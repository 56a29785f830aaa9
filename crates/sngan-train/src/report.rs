//! A run drawn as one self-contained HTML page (`sngan report --run DIR`): the losses, D(x) and
//! D(G(z)), each spectrally normalised layer's sigma, the periodic scores and the throughput
//! over G steps as SVG line charts from `metrics.csv`, and the latest sample grid embedded as a
//! PNG, so a run can be judged at a glance and the file sent as it is.

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine;

use crate::error::{TrainError, io};
use crate::run::Run;

const PALETTE: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

/// An SVG line chart of `series` against the G step, with the value range and legend.
fn chart(title: &str, series: &[(String, Vec<(f64, f64)>)]) -> String {
    // Legends go four to a line below the plot.
    let legend_lines = series.len().div_ceil(4).max(1) as f64;
    let (w, left, right, top, bottom) = (560.0, 64.0, 12.0, 28.0, 24.0 + 14.0 * legend_lines);
    let h = 220.0 + bottom;
    let points = series.iter().flat_map(|(_, s)| s.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in points {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    let mut svg = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' font-family='sans-serif' font-size='11'>\
         <text x='{left}' y='16' font-size='13' font-weight='bold'>{title}</text>"
    );
    if x0 > x1 {
        svg.push_str("<text x='200' y='130'>no data yet</text></svg>");
        return svg;
    }
    if y1 - y0 < 1e-12 {
        (y0, y1) = (y0 - 0.5, y1 + 0.5);
    }
    let x1 = if x1 > x0 { x1 } else { x0 + 1.0 };
    let (pw, ph) = (w - left - right, h - top - bottom);
    let px = |x: f64| left + (x - x0) / (x1 - x0) * pw;
    let py = |y: f64| top + (1.0 - (y - y0) / (y1 - y0)) * ph;
    let _ = write!(
        svg,
        "<rect x='{left}' y='{top}' width='{pw}' height='{ph}' fill='none' stroke='#999'/>\
         <text x='{}' y='{}' text-anchor='end'>{}</text><text x='{}' y='{}' text-anchor='end'>{}</text>\
         <text x='{left}' y='{}'>{}</text><text x='{}' y='{}' text-anchor='end'>{} G steps</text>",
        left - 4.0,
        top + 10.0,
        fmt_value(y1),
        left - 4.0,
        top + ph,
        fmt_value(y0),
        h - bottom + 14.0,
        x0,
        left + pw,
        h - bottom + 14.0,
        x1
    );
    for (i, (name, s)) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let path: Vec<String> = s
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let _ = write!(
            svg,
            "<polyline fill='none' stroke='{color}' stroke-width='1.5' points='{}'/>",
            path.join(" ")
        );
        if s.len() == 1 {
            let (x, y) = s[0];
            let _ = write!(
                svg,
                "<circle cx='{:.1}' cy='{:.1}' r='3' fill='{color}'/>",
                px(x),
                py(y)
            );
        }
        let (lx, ly) = (
            8.0 + (i % 4) as f64 * 138.0,
            h - bottom + 30.0 + (i / 4) as f64 * 14.0,
        );
        let _ = write!(
            svg,
            "<rect x='{lx}' y='{}' width='10' height='3' fill='{color}'/><text x='{}' y='{ly}'>{}</text>",
            ly - 4.0,
            lx + 14.0,
            escape(name)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn fmt_value(v: f64) -> String {
    match v.abs() {
        a if a != 0.0 && !(1e-3..1e5).contains(&a) => format!("{v:.2e}"),
        _ => format!("{v:.4}"),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The report of `run` as one HTML page.
pub fn html(run: &Run) -> Result<String, TrainError> {
    let config = run.config();
    let table = run.metrics()?;
    let named = |names: Vec<String>| -> Vec<(String, Vec<(f64, f64)>)> {
        names
            .into_iter()
            .map(|n| {
                let s = table.series(&n);
                (n, s)
            })
            .collect()
    };
    let fixed = [
        "step",
        "loss_d",
        "loss_g",
        "d_real",
        "d_fake",
        "loss_gp",
        "lr_g",
        "lr_d",
        "images_per_s",
    ];
    let scores = table.columns(|n| !fixed.contains(&n) && !n.starts_with("sigma/"));
    let mut charts = vec![
        chart("Losses", &named(table.columns(|n| n.starts_with("loss_")))),
        chart(
            "D(x) and D(G(z)) (mean logits)",
            &named(vec!["d_real".into(), "d_fake".into()]),
        ),
        chart(
            "Spectral norm sigma of each D layer (raw weight)",
            &named(table.columns(|n| n.starts_with("sigma/"))),
        ),
    ];
    for score in scores {
        charts.push(chart(&escape(&score), &named(vec![score.clone()])));
    }
    charts.push(chart(
        "Real images per second",
        &named(vec!["images_per_s".into()]),
    ));
    let step = table.rows.last().and_then(|r| r[0]).unwrap_or(0.0);
    let grid = match run.latest_grid() {
        Some(path) => {
            let png = std::fs::read(&path).map_err(io(&path))?;
            format!(
                "<h2>Latest samples <small>{}</small></h2><img alt='samples' src='data:image/png;base64,{}'/>",
                escape(&path.display().to_string()),
                base64::engine::general_purpose::STANDARD.encode(png)
            )
        }
        None => "<h2>Latest samples</h2><p>no sample grid yet</p>".into(),
    };
    let summary = format!(
        "{} on {}: G {}, D {}, {:?} loss, n_dis {}, batch {} / {}, {} of {} G steps logged",
        escape(&config.name),
        config.data.dataset,
        config.generator.kind(),
        config.discriminator.kind(),
        config.loss,
        config.n_dis,
        config.batch_size,
        config.g_batch_size,
        step,
        config.iterations
    );
    Ok(format!(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>{}</title>\
         <style>body{{font-family:sans-serif;margin:24px}}svg{{margin:6px;border:1px solid #eee}}</style></head>\
         <body><h1>{}</h1><p>{summary}</p><p>{}</p><div>{}</div>{grid}</body></html>\n",
        escape(&config.name),
        escape(&config.name),
        escape(&run.dir().display().to_string()),
        charts.join("")
    ))
}

/// Writes [`html`] of `run` to `path`, atomically.
pub fn write(run: &Run, path: &Path) -> Result<(), TrainError> {
    Ok(sngan_core::write_atomic(path, html(run)?.as_bytes())?)
}
