//! The TLC's own figures beside ours: per month and licence class, the TLC's trips per day
//! and farebox per day (its monthly indicators, `mart.ref_tlc_indicator`), ours on the TLC's
//! definition (every row picked up in the month; farebox = total − tips) and ours after the
//! mart's cleaning, with the deviations in percent. A deviation of ours on the TLC's
//! definition above [`FLAG_ABOVE`] is flagged: that is a difference of counting, not of
//! cleaning, and worth a look.

use std::fmt::Write;

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::charts::{Chart, FONT, NEUTRAL, hex, render_sized, slots};
use crate::error::VizError;
use crate::mart::Aggregates;
use crate::numbers::{decimal, thousands_f};
use crate::page::escape;
use crate::reference::TlcRow;

/// Deviations (ours on the TLC's definition against the TLC) above this are flagged.
pub const FLAG_ABOVE: f64 = 0.01;
const TLC: RGBColor = RGBColor(0x33, 0x33, 0x33);
const CLEANED: RGBColor = RGBColor(0x9e, 0xc5, 0xe8);

/// `(ours − theirs) / theirs`.
pub fn deviation(ours: Option<f64>, theirs: Option<f64>) -> Option<f64> {
    let (ours, theirs) = (ours?, theirs?);
    (theirs != 0.0).then(|| (ours - theirs) / theirs)
}

impl TlcRow {
    pub fn recorded_trips_per_day(&self) -> Option<f64> {
        self.recorded_trips.map(|t| t as f64 / self.days())
    }
    pub fn cleaned_trips_per_day(&self) -> Option<f64> {
        self.cleaned_trips.map(|t| t as f64 / self.days())
    }
    pub fn recorded_farebox_per_day(&self) -> Option<f64> {
        self.recorded_farebox.map(|f| f / self.days())
    }
    pub fn cleaned_farebox_per_day(&self) -> Option<f64> {
        self.cleaned_farebox.map(|f| f / self.days())
    }
    /// Whether a figure of ours on the TLC's definition is more than [`FLAG_ABOVE`] off.
    pub fn flagged(&self) -> bool {
        [
            deviation(self.recorded_trips_per_day(), self.tlc_trips_per_day),
            deviation(self.recorded_farebox_per_day(), self.tlc_farebox_per_day),
        ]
        .into_iter()
        .flatten()
        .any(|d| d.abs() > FLAG_ABOVE)
    }
}

/// Trips per day, the TLC's against ours (both definitions), a group of bars per month and class.
pub fn chart(a: &Aggregates) -> Result<Chart, VizError> {
    let rows = &a.reference.tlc;
    let labels: Vec<String> =
        rows.iter().map(|r| format!("{} {}", r.month, short_class(&r.licence_class))).collect();
    let series: [(RGBColor, Vec<Option<f64>>); 3] = [
        (TLC, rows.iter().map(|r| r.tlc_trips_per_day).collect()),
        (NEUTRAL, rows.iter().map(TlcRow::recorded_trips_per_day).collect()),
        (CLEANED, rows.iter().map(TlcRow::cleaned_trips_per_day).collect()),
    ];
    let n = rows.len().max(1) as i32;
    let top = series.iter().flat_map(|s| s.1.iter().flatten()).fold(0.0, |m: f64, v| m.max(*v));
    let top = if top > 0.0 { top * 1.08 } else { 1.0 };
    let (svg, marks) = render_sized("tlc_trips_per_day", 660, 340, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(slots(n).into_segmented(), 0f64..top)?;
        let label = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => {
                usize::try_from(*i).ok().and_then(|i| labels.get(i)).cloned().unwrap_or_default()
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(labels.len().clamp(1, 8))
            .x_label_formatter(&label)
            .y_label_formatter(&|y| thousands_f(*y))
            .y_desc("Trips per day")
            .label_style((FONT, 12))
            .light_line_style(WHITE)
            .axis_desc_style((FONT, 13))
            .draw()?;
        let mut marks = 0;
        // Three bars side by side in each slot: plotters' segment coordinates are integers,
        // so each bar takes a third of the slot through its pixel margins.
        let slot_px = (560 / n.max(1)) as u32;
        let third = slot_px / 3;
        for (k, (colour, values)) in series.iter().enumerate() {
            let bars: Vec<Rectangle<(SegmentValue<i32>, f64)>> = values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| Some((i, (*v)?)))
                .map(|(i, v)| {
                    let mut bar = Rectangle::new(
                        [(SegmentValue::Exact(i as i32), 0.0), (SegmentValue::Exact(i as i32 + 1), v)],
                        colour.filled(),
                    );
                    let left = (third * k as u32) + third / 8;
                    let right = slot_px.saturating_sub(third * (k as u32 + 1)) + third / 8;
                    bar.set_margin(0, 0, left, right);
                    bar
                })
                .collect();
            marks += bars.len();
            chart.draw_series(bars)?;
        }
        Ok(marks)
    })?;
    Ok(Chart {
        name: "tlc_trips_per_day",
        title: "Trips per day: the TLC's figure and ours".into(),
        svg,
        marks,
        legend: vec![
            ("TLC monthly report".into(), hex(TLC)),
            ("Ours, TLC definition (every row picked up in the month)".into(), hex(NEUTRAL)),
            ("Ours after cleaning (the fact table)".into(), hex(CLEANED)),
        ],
    })
}

fn short_class(class: &str) -> &str {
    match class {
        "FHV - High Volume" => "HVFHV",
        other => other,
    }
}

/// The comparison table, flagged rows marked, with what the figures mean.
pub fn table(out: &mut String, a: &Aggregates) {
    let rows = &a.reference.tlc;
    out.push_str("<section id=\"tlc\">\n<h2>The TLC's figures beside ours</h2>\n");
    if !a.reference.available {
        out.push_str("<p class=\"note\">This mart has no reference tables yet: run atl-mart build with this release.</p></section>\n");
        return;
    }
    if rows.is_empty() {
        out.push_str(
            "<p class=\"note\">No month of a service the TLC reports on in this selection.</p></section>\n",
        );
        return;
    }
    out.push_str(
        "<p class=\"note\">The TLC's monthly report counts every trip picked up in the month, all recorded rows, \
         over the month's days; its farebox is the total minus tips. \"Ours, TLC definition\" counts the same way \
         from the rows the mart received; \"ours after cleaning\" is the fact table the rest of this page shows \
         (rows the cleaning rejects are under Data quality; cleaned farebox subtracts card tips, the only tips \
         recorded). Deviations of ours on the TLC's definition above 1 % are flagged ⚠. The TLC revises past \
         months slightly between releases (about 0.1 %).</p>\n",
    );
    out.push_str(
        "<div class=\"table-wrap\"><table class=\"tlc\"><thead><tr><th>Month</th><th>TLC class</th>\
         <th>TLC trips/day</th><th>Ours (TLC def.)</th><th>Δ</th><th>Ours cleaned</th><th>Δ</th>\
         <th>TLC farebox/day</th><th>Ours (TLC def.)</th><th>Δ</th><th>Ours cleaned</th><th>Δ</th></tr></thead><tbody>\n",
    );
    let num = |v: Option<f64>| v.map(|v| decimal(v, 0)).unwrap_or_else(|| "–".into());
    let dev = |ours: Option<f64>, theirs: Option<f64>, flag: bool| match deviation(ours, theirs) {
        Some(d) => {
            let flagged = flag && d.abs() > FLAG_ABOVE;
            format!(
                "<td class=\"dev{}\" data-deviation=\"{d}\">{}{:+.2} %</td>",
                if flagged { " flag" } else { "" },
                if flagged { "⚠ " } else { "" },
                d * 100.0
            )
        }
        None => "<td class=\"dev\">–</td>".into(),
    };
    for r in rows {
        let _ = writeln!(
            out,
            "<tr data-month=\"{month}\" data-class=\"{class}\" data-tlc-trips=\"{tt}\" data-our-trips=\"{rt}\" data-flagged=\"{flagged}\">\
             <td>{month}</td><td>{class}</td><td>{}</td><td>{}</td>{}<td>{}</td>{}<td>{}</td><td>{}</td>{}<td>{}</td>{}</tr>",
            num(r.tlc_trips_per_day),
            num(r.recorded_trips_per_day()),
            dev(r.recorded_trips_per_day(), r.tlc_trips_per_day, true),
            num(r.cleaned_trips_per_day()),
            dev(r.cleaned_trips_per_day(), r.tlc_trips_per_day, false),
            num(r.tlc_farebox_per_day),
            num(r.recorded_farebox_per_day()),
            dev(r.recorded_farebox_per_day(), r.tlc_farebox_per_day, true),
            num(r.cleaned_farebox_per_day()),
            dev(r.cleaned_farebox_per_day(), r.tlc_farebox_per_day, false),
            month = r.month,
            class = escape(&r.licence_class),
            tt = r.tlc_trips_per_day.map(|v| v.to_string()).unwrap_or_default(),
            rt = r.recorded_trips_per_day().map(|v| v.to_string()).unwrap_or_default(),
            flagged = r.flagged(),
        );
    }
    out.push_str("</tbody></table></div>\n");
    let missing: Vec<String> = rows
        .iter()
        .filter(|r| r.tlc_trips_per_day.is_none())
        .map(|r| format!("{} {}", r.month, r.licence_class))
        .collect();
    if !missing.is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"note\">Not in the TLC's report loaded in the mart (atl-ingest --indicators fetches the newest): {}.</p>",
            escape(&missing.join(", "))
        );
    }
    out.push_str("</section>\n");
}
