//! The band's input conversion as the protocol carries it, from a model card's parameters.

use harbor_core::input::{ChannelQuant, InputQuant, MAX_SHIFT};
use harbor_core::rate::AXES;

use crate::model::input::InputQuant as CardInputQuant;

/// Converts a model card's `device_conversion` into the ConfigureInput parameters; names
/// the field that does not fit (channel count, zero point outside int8, shift too large).
pub fn device_input_quant(card: &CardInputQuant) -> Result<InputQuant, String> {
    if card.offset.len() != AXES || card.multiplier.len() != AXES {
        return Err(format!(
            "device_conversion has {} offsets and {} multipliers; the band takes {AXES} channels",
            card.offset.len(),
            card.multiplier.len()
        ));
    }
    let zero_point = i8::try_from(card.zero_point)
        .map_err(|_| format!("zero_point {} is outside int8", card.zero_point))?;
    let shift = u8::try_from(card.shift)
        .ok()
        .filter(|&s| s <= MAX_SHIFT)
        .ok_or_else(|| format!("shift {} exceeds {MAX_SHIFT}", card.shift))?;
    let channels = core::array::from_fn(|c| ChannelQuant {
        offset: card.offset[c],
        multiplier: card.multiplier[c],
        shift,
    });
    InputQuant::new(channels, zero_point).map_err(|e| e.to_string())
}
