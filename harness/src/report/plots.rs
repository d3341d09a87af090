//! The plots of `report.html`, drawn by plotters into SVG text.
//!
//! Text stays SVG `<text>` (plotters without its `ttf` feature measures it with a built-in
//! estimate), so rendering never looks up a system font. Every plot's `<svg>` carries an `id`
//! and a `class` so tests and readers can find it; the namespace URL plotters writes is dropped
//! (inline SVG in HTML does not need it, and the page then names no URL at all).

use std::ops::Range;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, SegmentValue};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::CellResult;
use crate::metrics::{
    ACCURACY, ENERGY_UJ, FLASH_BYTES, FLOAT_ACCURACY, HOST_INT8_ACCURACY, RAM_BYTES,
};

/// A plot that could not be drawn (plotters reports layout problems this way).
#[derive(Debug, thiserror::Error)]
#[error("plot `{id}`: {message}")]
pub struct PlotError {
    /// The plot's element id.
    pub id: String,
    /// What plotters reported.
    pub message: String,
}

const FONT: &str = "sans-serif";
const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(255, 127, 14);
const GREEN: RGBColor = RGBColor(44, 160, 44);
const GREY: RGBColor = RGBColor(120, 120, 120);

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// `n` category bands on a continuous axis (so bars can sit inside a band), with one key
/// point (label) at each band's centre.
struct Bands(usize);

impl Ranged for Bands {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = f64::from(limit.1 - limit.0);
        limit.0 + (value / self.0 as f64 * span).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, _hint: Hint) -> Vec<f64> {
        (0..self.0).map(|k| k as f64 + 0.5).collect()
    }

    fn range(&self) -> Range<f64> {
        0.0..self.0 as f64
    }
}

/// Draws into a `width`×`height` SVG and tags its root element.
fn svg(
    id: &str,
    class: &str,
    title: &str,
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> Result<(), String>,
) -> Result<String, PlotError> {
    let fail = |message: String| PlotError {
        id: id.to_string(),
        message,
    };
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        draw(&root).map_err(fail)?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    let open = text
        .find("<svg ")
        .ok_or_else(|| fail("no <svg> element".into()))?;
    let close = open
        + text[open..]
            .find('>')
            .ok_or_else(|| fail("unclosed <svg>".into()))?;
    let attributes = text[open + 5..close].replace(r#" xmlns="http://www.w3.org/2000/svg""#, "");
    let attributes = attributes.trim_end_matches('/').trim();
    Ok(format!(
        r#"<svg id="{}" class="plot {}" role="img" {}><title>{}</title>{}"#,
        escape(id),
        escape(class),
        attributes,
        escape(title),
        &text[close + 1..]
    ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Labels that tell cells apart: the parts of `model/dataset/target/mode` that differ.
pub fn short_labels(cells: &[CellResult]) -> Vec<String> {
    let parts: Vec<[String; 4]> = cells
        .iter()
        .map(|c| {
            [
                c.model.clone(),
                c.dataset.clone(),
                c.target.clone(),
                c.mode.name().to_string(),
            ]
        })
        .collect();
    let varies: Vec<bool> = (0..4)
        .map(|k| parts.iter().any(|p| p[k] != parts[0][k]))
        .collect();
    parts
        .iter()
        .map(|p| {
            let kept: Vec<&str> = (0..4)
                .filter(|&k| varies[k])
                .map(|k| p[k].as_str())
                .collect();
            if kept.is_empty() {
                p[0].clone()
            } else {
                kept.join(" · ")
            }
        })
        .collect()
}

/// Rows true class, columns device prediction; one `<rect>` per cell of the matrix,
/// shaded by the row's share so every class reads the same whatever its support.
pub fn confusion(
    id: &str,
    title: &str,
    classes: &[String],
    counts: &[Vec<u64>],
) -> Result<String, PlotError> {
    let n = classes.len().max(1) as u32;
    let longest = classes.iter().map(|c| c.chars().count()).max().unwrap_or(4) as u32;
    // Wide enough for the longest class name under its column (the page scales the SVG down).
    let cell = (6 * longest + 10).max(48);
    let label_w = 7 * longest + 30;
    let size = (label_w + n * cell + 30, n * cell + 110);
    svg(id, "confusion", title, size, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 14))
            .margin(10)
            .x_label_area_size(46)
            .y_label_area_size(label_w)
            // An integer range is inclusive as segments: 0..n-1 gives n of them.
            .build_cartesian_2d((0..n - 1).into_segmented(), (0..n - 1).into_segmented())
            .map_err(|e| e.to_string())?;
        let name_at = |v: &SegmentValue<u32>, flip: bool| match v {
            SegmentValue::CenterOf(k) if *k < n => {
                let k = if flip { n - 1 - k } else { *k };
                classes.get(k as usize).cloned().unwrap_or_default()
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("device prediction")
            .y_desc("true class")
            .x_labels(n as usize)
            .y_labels(n as usize)
            .x_label_formatter(&|v| name_at(v, false))
            .y_label_formatter(&|v| name_at(v, true))
            .label_style((FONT, 11))
            .draw()
            .map_err(|e| e.to_string())?;
        let mut rects = Vec::new();
        let mut texts = Vec::new();
        for (i, row) in counts.iter().enumerate().take(n as usize) {
            let total: u64 = row.iter().sum();
            let y = n - 1 - i as u32;
            for (j, &count) in row.iter().enumerate().take(n as usize) {
                let share = if total == 0 {
                    0.0
                } else {
                    count as f64 / total as f64
                };
                let shade = |c: u8| (255.0 - (255.0 - f64::from(c)) * share).round() as u8;
                let color = RGBColor(shade(BLUE.0), shade(BLUE.1), shade(BLUE.2));
                let x = j as u32;
                rects.push(Rectangle::new(
                    [
                        (SegmentValue::Exact(x), SegmentValue::Exact(y + 1)),
                        (SegmentValue::Exact(x + 1), SegmentValue::Exact(y)),
                    ],
                    color.filled(),
                ));
                let ink = if share > 0.5 { WHITE } else { BLACK };
                texts.push(Text::new(
                    count.to_string(),
                    (SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)),
                    (FONT, 11)
                        .into_font()
                        .color(&ink)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                ));
            }
        }
        chart.draw_series(rects).map_err(|e| e.to_string())?;
        chart.draw_series(texts).map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// One series of a horizontal bar chart: a value (or nothing measured) per category.
struct Series<'a> {
    name: &'a str,
    color: RGBColor,
    values: Vec<Option<f64>>,
}

/// The title, and under it a colour key: a swatch and the name of each series.
fn draw_heading(
    area: &Area<'_>,
    left: i32,
    title: &str,
    series: &[Series<'_>],
) -> Result<(), String> {
    area.draw(&Text::new(title.to_string(), (left, 8), (FONT, 14)))
        .map_err(|e| e.to_string())?;
    let mut x = left;
    for s in series {
        area.draw(&Rectangle::new([(x, 32), (x + 12, 44)], s.color.filled()))
            .map_err(|e| e.to_string())?;
        area.draw(&Text::new(s.name.to_string(), (x + 16, 33), (FONT, 12)))
            .map_err(|e| e.to_string())?;
        x += 16 + 8 * s.name.chars().count() as i32 + 16;
    }
    Ok(())
}

/// Horizontal bars, one band per category, one bar per series inside the band.
fn hbars(
    id: &str,
    class: &str,
    title: &str,
    x_desc: &str,
    categories: &[String],
    series: &[Series<'_>],
    x_max: f64,
) -> Result<String, PlotError> {
    let n = categories.len().max(1);
    let band = 14 * series.len().max(1) as u32 + 12;
    let label_w = (7 * categories
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(4) as u32
        + 16)
        .min(420);
    let size = (label_w + 560, band * n as u32 + 150);
    let x_max = if x_max.is_finite() && x_max > 0.0 {
        x_max
    } else {
        1.0
    };
    svg(id, class, title, size, |root| {
        let (heading, plot) = root.split_vertically(50);
        draw_heading(&heading, label_w as i32 + 10, title, series)?;
        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(label_w)
            .build_cartesian_2d(0.0..x_max, Bands(n))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GREY.mix(0.3))
            .x_desc(x_desc)
            .y_label_formatter(&|y| {
                let k = y.floor() as usize;
                categories
                    .get(n - 1 - k.min(n - 1))
                    .cloned()
                    .unwrap_or_default()
            })
            .label_style((FONT, 11))
            .draw()
            .map_err(|e| e.to_string())?;
        let slot = 0.8 / series.len().max(1) as f64;
        for (s, line) in series.iter().enumerate() {
            let color = line.color;
            let bars = line.values.iter().enumerate().filter_map(|(k, v)| {
                let top = (n - 1 - k) as f64 + 0.9 - slot * s as f64;
                v.map(|v| {
                    Rectangle::new(
                        [(0.0, top), (v.min(x_max), top - slot * 0.9)],
                        color.filled(),
                    )
                })
            });
            chart.draw_series(bars).map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

fn max_of(values: impl IntoIterator<Item = Option<f64>>) -> f64 {
    values.into_iter().flatten().fold(0.0, f64::max) * 1.1
}

/// On-device accuracy next to the host int8 and float references, per cell.
pub fn accuracy(cells: &[CellResult]) -> Result<String, PlotError> {
    let series = [
        Series {
            name: "on device",
            color: BLUE,
            values: cells.iter().map(|c| ACCURACY.value(c)).collect(),
        },
        Series {
            name: "host int8",
            color: ORANGE,
            values: cells.iter().map(|c| HOST_INT8_ACCURACY.value(c)).collect(),
        },
        Series {
            name: "host float",
            color: GREEN,
            values: cells.iter().map(|c| FLOAT_ACCURACY.value(c)).collect(),
        },
    ];
    hbars(
        "plot-accuracy",
        ACCURACY.name,
        "Accuracy: on device vs desktop references",
        ACCURACY.name,
        &short_labels(cells),
        &series,
        1.0,
    )
}

/// Flash and RAM per cell, in KiB.
pub fn footprint(cells: &[CellResult]) -> Result<String, PlotError> {
    let kib = |v: Option<f64>| v.map(|b| b / 1024.0);
    let series = [
        Series {
            name: "flash",
            color: BLUE,
            values: cells.iter().map(|c| kib(FLASH_BYTES.value(c))).collect(),
        },
        Series {
            name: "RAM",
            color: ORANGE,
            values: cells.iter().map(|c| kib(RAM_BYTES.value(c))).collect(),
        },
    ];
    let x_max = max_of(series.iter().flat_map(|s| s.values.iter().copied()));
    hbars(
        "plot-footprint",
        "footprint",
        "Flash (firmware + model) and RAM (incl. stack high-water)",
        "KiB",
        &short_labels(cells),
        &series,
        x_max,
    )
}

/// Estimated energy per inference per cell (µJ).
pub fn energy(cells: &[CellResult]) -> Result<String, PlotError> {
    let series = [Series {
        name: "energy per inference",
        color: GREEN,
        values: cells.iter().map(|c| ENERGY_UJ.value(c)).collect(),
    }];
    let x_max = max_of(series[0].values.iter().copied());
    hbars(
        "plot-energy",
        "energy",
        "Energy per inference (estimate)",
        "µJ",
        &short_labels(cells),
        &series,
        x_max,
    )
}

/// Instructions per inference per cell: a bar from min to max, a tick at the median.
pub fn instructions(cells: &[CellResult]) -> Result<String, PlotError> {
    let categories = short_labels(cells);
    let n = categories.len().max(1);
    let label_w = (7 * categories
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(4) as u32
        + 16)
        .min(420);
    // Zoomed on the measured range: the spread is a few % of the count.
    let stats: Vec<_> = cells.iter().filter_map(|c| c.instructions).collect();
    let lo = stats.iter().map(|s| s.min).min().unwrap_or(0) as f64;
    let hi = stats.iter().map(|s| s.max).max().unwrap_or(1) as f64;
    let pad = ((hi - lo) * 0.1).max(hi * 0.005).max(1.0);
    let (x_min, x_max) = ((lo - pad).max(0.0), hi + pad);
    let title = "Instructions per inference (min – median – max)";
    svg(
        "plot-instructions",
        "instructions",
        title,
        (label_w + 560, 30 * n as u32 + 110),
        |root| {
            let mut chart = ChartBuilder::on(root)
                .caption(title, (FONT, 14))
                .margin(10)
                .x_label_area_size(36)
                .y_label_area_size(label_w)
                .build_cartesian_2d(x_min..x_max, Bands(n))
                .map_err(|e| e.to_string())?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .light_line_style(TRANSPARENT)
                .bold_line_style(GREY.mix(0.3))
                .x_desc("instructions (millions)")
                .x_label_formatter(&|x| format!("{:.3}", x / 1e6))
                .y_label_formatter(&|y| {
                    let k = y.floor() as usize;
                    categories
                        .get(n - 1 - k.min(n - 1))
                        .cloned()
                        .unwrap_or_default()
                })
                .label_style((FONT, 11))
                .draw()
                .map_err(|e| e.to_string())?;
            let mut shapes = Vec::new();
            for (k, c) in cells.iter().enumerate() {
                let Some(s) = c.instructions else { continue };
                let y = (n - 1 - k) as f64;
                let (lo, hi) = (s.min as f64, s.max as f64);
                let half = ((x_max - x_min) / 400.0).max(0.5);
                shapes.push(Rectangle::new(
                    [(lo, y + 0.65), (hi.max(lo + half), y + 0.35)],
                    BLUE.mix(0.35).filled(),
                ));
                let m = s.median as f64;
                shapes.push(Rectangle::new(
                    [(m - half, y + 0.8), (m + half, y + 0.2)],
                    BLUE.filled(),
                ));
            }
            chart.draw_series(shapes).map_err(|e| e.to_string())?;
            Ok(())
        },
    )
}
