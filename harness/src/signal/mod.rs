//! From canonical recordings to what the band's IMU produces and what its model consumes:
//! resampling, int16 quantization, windowing and subject-wise splits.
