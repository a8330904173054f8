//! A self-contained HTML report of a simulation: inline CSS and SVG, no
//! script, no fonts, no network — it opens the same from a mail attachment.
//!
//! Sections: totals; connected calls per target per hour; cap fill against
//! limits (per owner, each cap as a percentage of its limit, hour by hour);
//! lost calls by hour (over the run, and by UTC hour of day); per-owner
//! counts and rejection reasons.

use std::fmt::Write as _;

use routecap_core::model::Config;
use routecap_core::money::Money;
use routecap_core::render;

use crate::simulate::{cap_fill, lost_by_hour_of_day, sorted_rejections, OwnerStats, SimReport};

/// Colours of the series, cycled.
const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

const W: f64 = 900.0;
const H: f64 = 220.0;
const PAD_L: f64 = 50.0;
const PAD_B: f64 = 24.0;
const PAD_T: f64 = 10.0;

/// Escape text for HTML content and attributes.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// A "nice" axis maximum at or above `v`.
fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if v <= m * mag {
            return m * mag;
        }
    }
    10.0 * mag
}

/// Frame, y grid with labels, x labels at day starts.
fn frame(out: &mut String, report: &SimReport, y_max: f64, y_unit: &str) {
    let n = report.hours.len().max(1) as f64;
    let plot_h = H - PAD_B - PAD_T;
    for i in 0..=4 {
        let v = y_max * f64::from(i) / 4.0;
        let y = PAD_T + plot_h * (1.0 - f64::from(i) / 4.0);
        let _ = write!(
            out,
            r##"<line x1="{PAD_L}" y1="{y:.1}" x2="{W}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{}{}</text>"##,
            PAD_L - 4.0,
            y + 3.0,
            trim_num(v),
            y_unit
        );
    }
    let step = (report.hours.len() / 24 / 10 + 1) * 24;
    for (i, h) in report.hours.iter().enumerate() {
        if i % step == 0 {
            let x = PAD_L + (W - PAD_L) * i as f64 / n;
            let _ = write!(
                out,
                r##"<line x1="{x:.1}" y1="{PAD_T}" x2="{x:.1}" y2="{:.1}" stroke="#eee"/><text x="{x:.1}" y="{:.1}" font-size="10">{}</text>"##,
                H - PAD_B,
                H - 8.0,
                h.start.format("%a %m-%d")
            );
        }
    }
}

fn trim_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

fn y_of(v: f64, y_max: f64) -> f64 {
    let plot_h = H - PAD_B - PAD_T;
    PAD_T + plot_h * (1.0 - (v / y_max).clamp(0.0, 1.05))
}

fn x_of(i: usize, n: usize) -> f64 {
    PAD_L + (W - PAD_L) * (i as f64 + 0.5) / n.max(1) as f64
}

fn open_svg(out: &mut String, label: &str) {
    let _ = write!(
        out,
        r#"<svg viewBox="0 0 {W} {H}" width="100%" role="img" aria-label="{}">"#,
        esc(label)
    );
}

/// One polyline per series over the hour buckets.
fn line_chart(
    report: &SimReport,
    label: &str,
    series: &[(String, &str, Vec<f64>)],
    y_max: f64,
    unit: &str,
) -> String {
    let mut out = String::new();
    open_svg(&mut out, label);
    frame(&mut out, report, y_max, unit);
    let n = report.hours.len();
    for (name, col, values) in series {
        let pts: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x_of(i, n), y_of(*v, y_max)))
            .collect();
        let _ = write!(
            out,
            r#"<polyline fill="none" stroke="{col}" stroke-width="1.5" points="{}"><title>{}</title></polyline>"#,
            pts.join(" "),
            esc(name)
        );
    }
    out.push_str("</svg>");
    out.push_str(&legend(series.iter().map(|(n, c, _)| (n.as_str(), *c))));
    out
}

fn legend<'a>(items: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::from(r#"<p class="legend">"#);
    for (name, col) in items {
        let _ = write!(
            out,
            r#"<span><i style="background:{col}"></i>{}</span> "#,
            esc(name)
        );
    }
    out.push_str("</p>");
    out
}

/// Stacked bars (bottom first) over `n` slots with the given x labels.
fn bar_chart(label: &str, labels: &[String], stacks: &[(&str, &str, Vec<u64>)]) -> String {
    let n = labels.len().max(1);
    let totals: Vec<u64> = (0..n)
        .map(|i| {
            stacks
                .iter()
                .map(|s| s.2.get(i).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let y_max = nice_max(totals.iter().copied().max().unwrap_or(0) as f64);
    let mut out = String::new();
    open_svg(&mut out, label);
    let plot_h = H - PAD_B - PAD_T;
    for i in 0..=4 {
        let y = PAD_T + plot_h * (1.0 - f64::from(i) / 4.0);
        let _ = write!(
            out,
            r##"<line x1="{PAD_L}" y1="{y:.1}" x2="{W}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"##,
            PAD_L - 4.0,
            y + 3.0,
            trim_num(y_max * f64::from(i) / 4.0)
        );
    }
    let bw = (W - PAD_L) / n as f64;
    let label_every = n.div_ceil(24).max(1);
    for (i, label) in labels.iter().enumerate() {
        let x = PAD_L + bw * i as f64;
        let mut base = 0u64;
        for (name, col, vals) in stacks {
            let v = vals.get(i).copied().unwrap_or(0);
            if v > 0 {
                let y0 = y_of(base as f64, y_max);
                let y1 = y_of((base + v) as f64, y_max);
                let _ = write!(
                    out,
                    r#"<rect x="{:.2}" y="{y1:.1}" width="{:.2}" height="{:.1}" fill="{col}"><title>{} {}: {v}</title></rect>"#,
                    x + bw * 0.1,
                    (bw * 0.8).max(0.5),
                    (y0 - y1).max(0.0),
                    esc(label),
                    esc(name)
                );
            }
            base += v;
        }
        if i % label_every == 0 {
            let _ = write!(
                out,
                r#"<text x="{x:.1}" y="{:.1}" font-size="10">{}</text>"#,
                H - 8.0,
                esc(label)
            );
        }
    }
    out.push_str("</svg>");
    out.push_str(&legend(stacks.iter().map(|(n, c, _)| (*n, *c))));
    out
}

fn stats_rows(config: &Config, ids: &[(&str, &str)], stats: &[&OwnerStats]) -> String {
    let mut out = String::new();
    for ((id, kind), st) in ids.iter().zip(stats) {
        let reasons = sorted_rejections(st)
            .iter()
            .map(|r| {
                let g = r
                    .group
                    .and_then(|g| config.groups.get(g))
                    .map_or(String::new(), |g| format!(" [{}]", g.id));
                format!("{}{}: {}", r.code_string(), g, r.calls)
            })
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"l\">{}</td></tr>",
            esc(id),
            kind,
            st.offered,
            st.answered,
            st.connected,
            st.refused,
            st.converted,
            st.revenue,
            st.ineligible,
            esc(&reasons)
        );
    }
    out
}

/// The whole report as one HTML document.
pub fn render(config: &Config, report: &SimReport) -> String {
    let p = &report.params;
    let mut out = String::new();
    let title = format!(
        "routecap simulation {} .. {} (seed {})",
        render::instant(p.from),
        render::instant(p.to),
        p.seed
    );
    let _ = write!(
        out,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{}</title><style>
body{{font-family:system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}}
table{{border-collapse:collapse;margin:.5em 0}}td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}
td.l,th.l{{text-align:left}}th{{background:#f4f4f4}}
.legend span{{margin-right:1em;font-size:12px}}.legend i{{display:inline-block;width:10px;height:10px;margin-right:4px}}
h2{{margin-top:1.5em;border-bottom:1px solid #ddd}}h3{{margin-bottom:0}}
</style></head><body><h1>{}</h1>"#,
        esc(&title),
        esc(&title)
    );
    summary(&mut out, report);
    volume(&mut out, config, report);
    let owners = fill_charts(&mut out, config, report);
    lost_charts(&mut out, report);

    // tables
    out.push_str(r#"<h2>Per target and group</h2><table><tr><th class="l">id</th><th>kind</th><th>offered</th><th>answered</th><th>connected</th><th>refused</th><th>converted</th><th>revenue</th><th>ineligible</th><th class="l">rejections (calls)</th></tr>"#);
    let stats: Vec<&OwnerStats> = report.targets.iter().chain(&report.groups).collect();
    out.push_str(&stats_rows(config, &owners, &stats));
    out.push_str("</table><p>Rejections count how often a candidate was ineligible when a call was routed, per reason; one call can count under several reasons. Group rows: offers of simultaneous groups, and the connects, conversions and revenue of all their members.</p>");
    out.push_str("<p><small>Generated by routecap simulate.</small></p></body></html>\n");
    out
}

/// The run's parameters and the outcome table.
fn summary(out: &mut String, report: &SimReport) {
    let p = &report.params;
    let pc = |a: u64| {
        if report.calls == 0 {
            "-".to_string()
        } else {
            format!("{:.1}%", a as f64 * 100.0 / report.calls as f64)
        }
    };
    let _ = write!(
        out,
        r#"<p>{} calls at {} per hour{}; answer rate {}, convert rate {}, revenue {} per conversion, mean call length {} s{}.</p>
<table><tr><th class="l">calls</th><td>{}</td><td></td></tr>
<tr><th class="l">routed (some target eligible)</th><td>{}</td><td>{}</td></tr>
<tr><th class="l">connected</th><td>{}</td><td>{}</td></tr>
<tr><th class="l">converted</th><td>{}</td><td>{}</td></tr>
<tr><th class="l">revenue</th><td>{}</td><td></td></tr>
<tr><th class="l">lost: no eligible target</th><td>{}</td><td>{}</td></tr>
<tr><th class="l">lost: nobody answered</th><td>{}</td><td>{}</td></tr></table>"#,
        report.calls,
        p.calls_per_hour,
        if p.profile.is_some() {
            " (profiled)"
        } else {
            ""
        },
        p.answer_rate,
        p.convert_rate,
        p.revenue,
        p.mean_duration_secs,
        if p.fresh { ", fresh counters" } else { "" },
        report.calls,
        report.routed,
        pc(report.routed),
        report.connected,
        pc(report.connected),
        report.converted,
        pc(report.converted),
        report.revenue,
        report.no_eligible,
        pc(report.no_eligible),
        report.unanswered,
        pc(report.unanswered),
    );
}

/// Connected calls per target, per hour.
fn volume(out: &mut String, config: &Config, report: &SimReport) {
    out.push_str("<h2>Connected calls per target, per hour (UTC)</h2>");
    let series: Vec<(String, &str, Vec<f64>)> = config
        .targets
        .iter()
        .enumerate()
        .map(|(t, tg)| {
            (
                tg.id.clone(),
                colour(t),
                report
                    .hours
                    .iter()
                    .map(|h| h.connected.get(t).copied().unwrap_or(0) as f64)
                    .collect(),
            )
        })
        .collect();
    let peak = series
        .iter()
        .flat_map(|s| s.2.iter().copied())
        .fold(0.0, f64::max);
    out.push_str(&line_chart(
        report,
        "connected calls per target per hour",
        &series,
        nice_max(peak),
        "",
    ));
}

/// Each owner's cap fill per hour; returns the owners (targets, then
/// groups) with their kind, in the order of the tables.
fn fill_charts<'c>(
    out: &mut String,
    config: &'c Config,
    report: &SimReport,
) -> Vec<(&'c str, &'static str)> {
    out.push_str("<h2>Cap fill against limits</h2><p>Each cap's usage as a share of its limit, at the end of each hour (concurrency: the most live calls during the hour). 100% means the cap is reached and the owner takes no more calls in that window.</p>");
    let owners: Vec<(&str, &str)> = config
        .targets
        .iter()
        .map(|t| (t.id.as_str(), "target"))
        .chain(config.groups.iter().map(|g| (g.id.as_str(), "group")))
        .collect();
    for (o, (id, kind)) in owners.iter().enumerate() {
        let caps = cap_fill(config, report, o);
        if caps.is_empty() {
            continue;
        }
        let series: Vec<(String, &str, Vec<f64>)> = caps
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let lim = c
                    .fixed_limit()
                    .map_or("by hour".into(), |l| amount(l, c.money));
                (
                    format!(
                        "{} (limit {lim}, peak {}, {} h at limit)",
                        c.cap,
                        amount(c.peak(), c.money),
                        c.hours_at_limit()
                    ),
                    colour(i),
                    c.used
                        .iter()
                        .zip(&c.limit)
                        .map(|(u, l)| match l {
                            Some(0) => 100.0,
                            Some(l) => *u as f64 * 100.0 / *l as f64,
                            None => 0.0,
                        })
                        .collect(),
                )
            })
            .collect();
        let _ = write!(out, "<h3>{} {}</h3>", kind, esc(id));
        out.push_str(&line_chart(
            report,
            &format!("cap fill of {id}"),
            &series,
            100.0,
            "%",
        ));
    }
    owners
}

/// Lost calls by hour and by UTC hour of day.
fn lost_charts(out: &mut String, report: &SimReport) {
    out.push_str("<h2>Lost calls by hour</h2>");
    let labels: Vec<String> = report
        .hours
        .iter()
        .map(|h| h.start.format("%a %m-%d %H:00").to_string())
        .collect();
    out.push_str(&bar_chart(
        "lost calls per hour",
        &labels,
        &[
            (
                "no eligible target",
                "#d62728",
                report.hours.iter().map(|h| h.no_eligible).collect(),
            ),
            (
                "nobody answered",
                "#ff7f0e",
                report.hours.iter().map(|h| h.unanswered).collect(),
            ),
        ],
    ));
    out.push_str("<h3>By UTC hour of day</h3>");
    let hod = lost_by_hour_of_day(report);
    let hod_labels: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
    out.push_str(&bar_chart(
        "lost calls by UTC hour of day",
        &hod_labels,
        &[
            (
                "no eligible target",
                "#d62728",
                hod.iter().map(|x| x.0).collect(),
            ),
            (
                "nobody answered",
                "#ff7f0e",
                hod.iter().map(|x| x.1).collect(),
            ),
        ],
    ));
}

fn amount(v: i64, money: bool) -> String {
    if money {
        Money(v).to_string()
    } else {
        v.to_string()
    }
}
