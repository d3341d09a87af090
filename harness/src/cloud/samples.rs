//! Labelled windows a user uploads for one device (the web dashboard's upload), validated
//! against the model card's input contract: window length × channels of int16 readings and
//! class names from the card.
//!
//! Body: `{"windows": [{"label": "walking", "samples": [[ax, ay, az, gx, gy, gz], ...]}]}`.

use serde_json::Value;

use super::error::ApiError;

/// What the model consumes and may be labelled with (from its card).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputContract {
    /// Samples per window.
    pub window: usize,
    /// Values per sample.
    pub channels: usize,
    /// Class names a window may be labelled with.
    pub classes: Vec<String>,
}

/// One validated window: raw int16 readings, sample-major, and its class index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelledWindow {
    /// Class index into the contract's classes.
    pub class: usize,
    /// The readings, sample-major.
    pub samples: Vec<i16>,
}

/// Parses and validates an upload of at most `max_windows` windows. Every error names the
/// field, e.g. `windows[3].samples[12][4]`.
pub fn parse_upload(
    body: &[u8],
    contract: &InputContract,
    max_windows: usize,
) -> Result<Vec<LabelledWindow>, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::field("body", format!("not JSON: {e}")))?;
    let windows = value
        .get("windows")
        .ok_or_else(|| ApiError::field("windows", "missing"))?
        .as_array()
        .ok_or_else(|| ApiError::field("windows", "must be an array"))?;
    if windows.is_empty() {
        return Err(ApiError::field("windows", "is empty"));
    }
    if windows.len() > max_windows {
        return Err(ApiError::field(
            "windows",
            format!(
                "{} windows, at most {max_windows} per upload",
                windows.len()
            ),
        ));
    }
    windows
        .iter()
        .enumerate()
        .map(|(i, w)| parse_window(w, &format!("windows[{i}]"), contract))
        .collect()
}

fn parse_window(w: &Value, at: &str, contract: &InputContract) -> Result<LabelledWindow, ApiError> {
    let label = w
        .get("label")
        .ok_or_else(|| ApiError::field(format!("{at}.label"), "missing"))?
        .as_str()
        .ok_or_else(|| ApiError::field(format!("{at}.label"), "must be a string"))?;
    let class = contract
        .classes
        .iter()
        .position(|c| c == label)
        .ok_or_else(|| {
            ApiError::field(
                format!("{at}.label"),
                format!(
                    "`{label}` is not one of the model's classes: {}",
                    contract.classes.join(", ")
                ),
            )
        })?;
    let rows = w
        .get("samples")
        .ok_or_else(|| ApiError::field(format!("{at}.samples"), "missing"))?
        .as_array()
        .ok_or_else(|| ApiError::field(format!("{at}.samples"), "must be an array"))?;
    if rows.len() != contract.window {
        return Err(ApiError::field(
            format!("{at}.samples"),
            format!(
                "{} samples, the model takes {}",
                rows.len(),
                contract.window
            ),
        ));
    }
    let mut samples = Vec::with_capacity(contract.window * contract.channels);
    for (t, row) in rows.iter().enumerate() {
        let here = format!("{at}.samples[{t}]");
        let row = row
            .as_array()
            .ok_or_else(|| ApiError::field(&here, "must be an array of readings"))?;
        if row.len() != contract.channels {
            return Err(ApiError::field(
                &here,
                format!(
                    "{} channels, the model takes {}",
                    row.len(),
                    contract.channels
                ),
            ));
        }
        for (c, v) in row.iter().enumerate() {
            let reading = v
                .as_i64()
                .and_then(|v| i16::try_from(v).ok())
                .ok_or_else(|| {
                    ApiError::field(
                        format!("{here}[{c}]"),
                        format!("{v} is not an int16 reading"),
                    )
                })?;
            samples.push(reading);
        }
    }
    Ok(LabelledWindow { class, samples })
}

/// The upload body for `windows` (what the dashboard sends; tests and scenarios use it).
pub fn upload_body(contract: &InputContract, windows: &[LabelledWindow]) -> Vec<u8> {
    let windows: Vec<Value> = windows
        .iter()
        .map(|w| {
            let rows: Vec<Value> = w
                .samples
                .chunks(contract.channels)
                .map(|r| Value::from(r.to_vec()))
                .collect();
            serde_json::json!({"label": contract.classes[w.class], "samples": rows})
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "windows": windows })).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contract() -> InputContract {
        InputContract {
            window: 2,
            channels: 3,
            classes: vec!["walking".into(), "sitting".into()],
        }
    }

    #[test]
    fn round_trip_and_field_names() {
        let c = contract();
        let w = vec![LabelledWindow {
            class: 1,
            samples: vec![1, -2, 3, 4, 5, i16::MIN],
        }];
        assert_eq!(parse_upload(&upload_body(&c, &w), &c, 10).unwrap(), w);
        let cases = [
            (
                r#"{"windows":[{"label":"running","samples":[[1,2,3],[4,5,6]]}]}"#,
                "windows[0].label",
            ),
            (
                r#"{"windows":[{"label":"walking","samples":[[1,2,3]]}]}"#,
                "windows[0].samples",
            ),
            (
                r#"{"windows":[{"label":"walking","samples":[[1,2,3],[4,5]]}]}"#,
                "windows[0].samples[1]",
            ),
            (
                r#"{"windows":[{"label":"walking","samples":[[1,2,3],[4,5,40000]]}]}"#,
                "windows[0].samples[1][2]",
            ),
            (r#"{"windows":[]}"#, "windows"),
            (r#"{"win":[]}"#, "windows"),
            (r#"not json"#, "body"),
        ];
        for (body, field) in cases {
            let e = parse_upload(body.as_bytes(), &c, 10).unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{body}: {e:?}");
        }
        let many = upload_body(&c, &vec![w[0].clone(); 3]);
        assert_eq!(
            parse_upload(&many, &c, 2).unwrap_err().field.as_deref(),
            Some("windows")
        );
    }
}
