//! A study's results and its three files: `study.json` (everything), `study.md` (the
//! papers' table shape plus device columns, published figures side by side) and
//! `study.html` (a macro-F1 heatmap and F1 against fine-tuning ratio).

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::StudyError;
use super::device::DeviceScores;
use super::phases::PhaseSeconds;
use super::score::HostScores;

/// Version of `study.json`'s layout.
pub const STUDY_SCHEMA_VERSION: u32 = 1;

/// Everything a study measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StudyReport {
    /// [`STUDY_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `lodo`, `transfer` or `personalize`.
    pub study: String,
    /// The command line that ran it, as typed.
    pub command: String,
    /// Wall time of the whole study, seconds.
    pub wall_seconds: f64,
    /// The wall time by phase (absent in reports written before it was measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phases: Option<PhaseSeconds>,
    /// The settings that shape the numbers.
    pub settings: StudySettings,
    /// The models' classes, in output order.
    pub classes: Vec<String>,
    /// The datasets involved.
    pub datasets: Vec<String>,
    /// One row per model and test set.
    pub rows: Vec<StudyRow>,
    /// Means over groups per setting and ratio.
    pub summary: Vec<SummaryRow>,
    /// The papers' figures, for side-by-side reading.
    pub published: Vec<Published>,
}

/// The settings of a study.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StudySettings {
    /// Model variant.
    pub variant: String,
    /// Most training epochs (pre-training and fine-tuning).
    pub epochs: usize,
    /// Seed of splits, sampling and initialization.
    pub seed: u64,
    /// `per-dataset` or `global`.
    pub normalize: String,
    /// Fine-tuning ratios, % of the target's training part.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ratios: Vec<f64>,
    /// Strategies (`rd`, `pf`, `pu`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub strategies: Vec<String>,
    /// How subjects were split.
    pub split: String,
    /// The device the int8 models ran on (`qemu`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Test windows per model on the device (evenly thinned), if capped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_device_windows: Option<usize>,
    /// Personalization: held-out users and labelled windows per class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<usize>,
    /// Personalization: labelled windows per class each user gives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shots: Option<usize>,
}

/// One model scored on one test set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StudyRow {
    /// The target dataset (LODO, transfer) or user (personalization).
    pub group: String,
    /// Datasets the model was pre-trained on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// Strategy (`rd`, `pf`, `pu`) or setting (`GS`, `PS`, `PM`).
    pub setting: String,
    /// Fine-tuning ratio (% of the target's training part), when the study has ratios.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// Windows the model was fine-tuned (or trained) on for this row.
    pub train_windows: usize,
    /// Test windows scored on the host.
    pub test_windows: usize,
    /// Float and int8 on the host.
    pub host: HostScores,
    /// int8 on the device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceScores>,
}

/// Means over the groups of one setting and ratio.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Strategy or setting.
    pub setting: String,
    /// Ratio, when the study has ratios.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// Groups averaged.
    pub groups: usize,
    /// Mean float macro-F1.
    pub float_macro_f1: f64,
    /// Mean float accuracy.
    pub float_accuracy: f64,
    /// Mean host int8 macro-F1.
    pub int8_macro_f1: f64,
    /// Mean host int8 accuracy.
    pub int8_accuracy: f64,
    /// Mean device macro-F1 (when every group ran on the device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_macro_f1: Option<f64>,
    /// Mean device accuracy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_accuracy: Option<f64>,
    /// Every device run of this setting was bit-exact with the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_bit_exact: Option<bool>,
}

/// A figure from a paper.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Published {
    /// Who and what (paper, model, dataset).
    pub source: String,
    /// Strategy or setting.
    pub setting: String,
    /// Ratio, when the figure is for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// `macro_f1` or `accuracy`.
    pub metric: String,
    /// The value.
    pub value: f64,
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { 0.0 } else { s / n as f64 }
}

/// Means per (setting, ratio), in the rows' first-seen order.
pub fn summarize(rows: &[StudyRow]) -> Vec<SummaryRow> {
    let mut keys: Vec<(String, Option<f64>)> = Vec::new();
    for r in rows {
        let k = (r.setting.clone(), r.ratio);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys.into_iter()
        .map(|(setting, ratio)| {
            let sel: Vec<&StudyRow> = rows
                .iter()
                .filter(|r| r.setting == setting && r.ratio == ratio)
                .collect();
            let all_device = sel.iter().all(|r| r.device.is_some());
            let dev = |f: fn(&DeviceScores) -> Option<f64>| {
                all_device.then(|| mean(sel.iter().filter_map(|r| r.device.as_ref().and_then(f))))
            };
            SummaryRow {
                groups: sel.len(),
                float_macro_f1: mean(sel.iter().map(|r| r.host.float.macro_f1)),
                float_accuracy: mean(sel.iter().map(|r| r.host.float.accuracy)),
                int8_macro_f1: mean(sel.iter().map(|r| r.host.int8.macro_f1)),
                int8_accuracy: mean(sel.iter().map(|r| r.host.int8.accuracy)),
                device_macro_f1: dev(|d| d.macro_f1),
                device_accuracy: dev(|d| d.accuracy),
                device_bit_exact: all_device.then(|| {
                    sel.iter().all(|r| {
                        r.device
                            .as_ref()
                            .is_some_and(|d| d.agreement_int8 == Some(1.0))
                    })
                }),
                setting,
                ratio,
            }
        })
        .collect()
}

impl StudyReport {
    /// Writes `study.json`, `study.md` and `study.html` into `dir` (each through a
    /// temporary file and a rename, `study.json` last, so no half-written report).
    pub fn write(&self, dir: &Path) -> Result<(), StudyError> {
        let json =
            serde_json::to_string_pretty(self).map_err(|e| StudyError::Output(e.to_string()))?;
        for (name, text) in [
            ("study.md", self.markdown()),
            ("study.html", self.html()),
            ("study.json", json),
        ] {
            let path = dir.join(name);
            let tmp = dir.join(format!(".{name}.tmp"));
            std::fs::write(&tmp, text)
                .and_then(|()| std::fs::rename(&tmp, &path))
                .map_err(|e| StudyError::Io { path, source: e })?;
        }
        Ok(())
    }

    fn published_for(&self, setting: &str, ratio: Option<f64>, metric: &str) -> String {
        let found: Vec<String> = self
            .published
            .iter()
            .filter(|p| {
                p.setting.eq_ignore_ascii_case(setting) && p.ratio == ratio && p.metric == metric
            })
            .map(|p| format!("{:.3} ({})", p.value, p.source))
            .collect();
        if found.is_empty() {
            "–".into()
        } else {
            found.join("; ")
        }
    }

    /// The ratio column label.
    fn ratio_label(r: Option<f64>) -> String {
        r.map_or("–".into(), |r| format!("{r} %"))
    }

    /// `study.md`.
    pub fn markdown(&self) -> String {
        let s = &self.settings;
        let mut md = String::new();
        let _ = writeln!(md, "# harbor study {}\n", self.study);
        let _ = writeln!(md, "- command: `{}`", self.command);
        let _ = writeln!(md, "- wall time: {:.1} s", self.wall_seconds);
        if let Some(p) = &self.phases {
            let _ = writeln!(
                md,
                "- of which: training on burn {:.1} s, quantize + export + host scoring {:.1} s, \
                 device replay {:.1} s, loading and the rest {:.1} s",
                p.train, p.export, p.device, p.other
            );
        }
        let _ = writeln!(
            md,
            "- variant {}, up to {} epochs, seed {}, normalization {}",
            s.variant, s.epochs, s.seed, s.normalize
        );
        let _ = writeln!(md, "- split: {}", s.split);
        let _ = writeln!(md, "- datasets: {}", self.datasets.join(", "));
        let _ = writeln!(md, "- classes: {}", self.classes.join(", "));
        if let Some(d) = &s.device {
            let _ = writeln!(
                md,
                "- device: {d}{}",
                s.max_device_windows
                    .map(|m| format!(", up to {m} test windows per model (evenly thinned)"))
                    .unwrap_or_default()
            );
        }
        let metric = if self.study == "personalize" {
            "accuracy"
        } else {
            "macro_f1"
        };
        let _ = writeln!(
            md,
            "\n## Means over {} ({metric}: float host / int8 host / int8 device), published side by side\n",
            if self.study == "personalize" {
                "users"
            } else {
                "targets"
            }
        );
        let _ = writeln!(
            md,
            "| setting | ratio | groups | float | int8 | device | device bit-exact | published |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
        for r in &self.summary {
            let (f, i, d) = if metric == "accuracy" {
                (r.float_accuracy, r.int8_accuracy, r.device_accuracy)
            } else {
                (r.float_macro_f1, r.int8_macro_f1, r.device_macro_f1)
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {:.3} | {:.3} | {} | {} | {} |",
                r.setting,
                Self::ratio_label(r.ratio),
                r.groups,
                f,
                i,
                d.map_or("–".into(), |d| format!("{d:.3}")),
                r.device_bit_exact.map_or("–".into(), |b| if b {
                    "yes".into()
                } else {
                    "NO".to_string()
                }),
                self.published_for(&r.setting, r.ratio, metric)
            );
        }
        let _ = writeln!(md, "\n## Every model\n");
        let _ = writeln!(
            md,
            "| group | setting | ratio | train windows | test windows | float acc | float F1 | int8 acc | int8 F1 | device acc | device F1 | bit-exact | instructions/inference | flash B | RAM B | model B |"
        );
        let _ = writeln!(
            md,
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
        );
        let opt = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.3}"));
        let int = |v: Option<u64>| v.map_or("–".into(), |v| v.to_string());
        for r in &self.rows {
            let d = r.device.clone().unwrap_or_default();
            let has = r.device.is_some();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {} | {} | {} | {} | {} | {} | {} |",
                r.group,
                r.setting,
                Self::ratio_label(r.ratio),
                r.train_windows,
                r.test_windows,
                r.host.float.accuracy,
                r.host.float.macro_f1,
                r.host.int8.accuracy,
                r.host.int8.macro_f1,
                opt(d.accuracy),
                opt(d.macro_f1),
                if has {
                    if d.agreement_int8 == Some(1.0) {
                        "yes".into()
                    } else {
                        format!("NO ({})", opt(d.agreement_int8))
                    }
                } else {
                    "–".into()
                },
                int(d.instructions_per_inference),
                int(d.flash_bytes),
                int(d.ram_bytes),
                if has {
                    d.model_bytes.to_string()
                } else {
                    "–".into()
                },
            );
        }
        if !self.published.is_empty() {
            let _ = writeln!(md, "\n## Published figures\n");
            for p in &self.published {
                let _ = writeln!(
                    md,
                    "- {}: {} {} {} = {:.4}",
                    p.source,
                    p.setting,
                    Self::ratio_label(p.ratio),
                    p.metric,
                    p.value
                );
            }
        }
        md
    }

    /// `study.html`: a heatmap of macro-F1 (device where measured, else host int8) per group
    /// and column, and mean F1 against ratio per setting.
    pub fn html(&self) -> String {
        let mut cols: Vec<(String, Option<f64>)> = Vec::new();
        let mut groups: Vec<String> = Vec::new();
        for r in &self.rows {
            let k = (r.setting.clone(), r.ratio);
            if !cols.contains(&k) {
                cols.push(k);
            }
            if !groups.contains(&r.group) {
                groups.push(r.group.clone());
            }
        }
        let mut h = String::new();
        let _ = write!(
            h,
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>harbor study {0}</title>\
             <style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:4px 8px;text-align:center;border:1px solid #ccc}}\
             table{{border-collapse:collapse}}</style></head><body><h1>harbor study {0}</h1>\
             <p><code>{1}</code><br>wall time {2:.1} s</p>",
            self.study,
            html_escape(&self.command),
            self.wall_seconds
        );
        let _ = write!(
            h,
            "<h2>Macro-F1 (device int8 where measured, else host int8)</h2><table><tr><th>group</th>"
        );
        for (s, r) in &cols {
            let _ = write!(h, "<th>{} {}</th>", s, Self::ratio_label(*r));
        }
        h.push_str("</tr>");
        for g in &groups {
            let _ = write!(h, "<tr><th>{}</th>", html_escape(g));
            for (s, ratio) in &cols {
                let row = self
                    .rows
                    .iter()
                    .find(|r| &r.group == g && &r.setting == s && r.ratio == *ratio);
                match row {
                    Some(r) => {
                        let f1 = r
                            .device
                            .as_ref()
                            .and_then(|d| d.macro_f1)
                            .unwrap_or(r.host.int8.macro_f1);
                        let hue = (f1.clamp(0.0, 1.0) * 120.0) as u32;
                        let _ = write!(
                            h,
                            "<td style=\"background:hsl({hue},70%,75%)\">{f1:.3}</td>"
                        );
                    }
                    None => h.push_str("<td>–</td>"),
                }
            }
            h.push_str("</tr>");
        }
        h.push_str("</table>");
        h.push_str(&self.ratio_chart());
        h.push_str("<h2>Tables</h2><pre>");
        h.push_str(&html_escape(&self.markdown()));
        h.push_str("</pre></body></html>\n");
        h
    }

    /// An SVG line per setting: mean macro-F1 (device where measured) against ratio.
    fn ratio_chart(&self) -> String {
        let ratios: Vec<f64> = {
            let mut r: Vec<f64> = self.summary.iter().filter_map(|s| s.ratio).collect();
            r.sort_by(f64::total_cmp);
            r.dedup();
            r
        };
        if ratios.len() < 2 {
            return String::new();
        }
        let (w, hgt, pad) = (520.0, 300.0, 40.0);
        // Evenly spaced ratios: 0, 1, 5, 10, 70 % would crowd on a linear axis.
        let x = |r: f64| {
            let i = ratios.iter().position(|&v| v == r).unwrap_or(0);
            pad + (w - 2.0 * pad) * i as f64 / (ratios.len() - 1) as f64
        };
        let y = |f: f64| hgt - pad - (hgt - 2.0 * pad) * f.clamp(0.0, 1.0);
        let colors = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e"];
        let mut svg = format!(
            "<h2>Mean macro-F1 against fine-tuning ratio</h2><svg width=\"{w}\" height=\"{hgt}\" xmlns=\"http://www.w3.org/2000/svg\">\
             <line x1=\"{pad}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/><line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{}\" stroke=\"black\"/>",
            hgt - pad,
            w - pad,
            hgt - pad,
            hgt - pad
        );
        for r in &ratios {
            let _ = write!(
                svg,
                "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{r} %</text>",
                x(*r),
                hgt - pad + 15.0
            );
        }
        for f in [0.0, 0.5, 1.0] {
            let _ = write!(
                svg,
                "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{f}</text>",
                pad - 4.0,
                y(f) + 4.0
            );
        }
        let mut settings: Vec<&str> = Vec::new();
        for s in &self.summary {
            if !settings.contains(&s.setting.as_str()) {
                settings.push(&s.setting);
            }
        }
        for (k, setting) in settings.iter().enumerate() {
            let color = colors[k % colors.len()];
            let points: Vec<String> = self
                .summary
                .iter()
                .filter(|s| s.setting == *setting && s.ratio.is_some())
                .map(|s| {
                    let f1 = s.device_macro_f1.unwrap_or(s.int8_macro_f1);
                    format!("{:.1},{:.1}", x(s.ratio.unwrap_or(0.0)), y(f1))
                })
                .collect();
            let _ = write!(
                svg,
                "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>\
                 <text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"{color}\">{setting}</text>",
                points.join(" "),
                w - pad + 4.0,
                pad + 14.0 * k as f64
            );
        }
        svg.push_str("</svg>");
        svg
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
