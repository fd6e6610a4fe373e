"""Display scaling of high-bit-depth pixels (16-bit, 32-bit, float) to 8 bits.

Pillow's own conversion of 16-bit images clips at 255 instead of scaling, and a plain ``>> 8``
turns 12-bit camera data or an image whose values span 291..694 into a black square. Scientific
viewers (ImageJ/Fiji, QGIS) stretch the real value range instead, and so do we. The range is taken from
the already-shrunk image: it is cheap, and averaging during the shrink keeps a single hot pixel
from flattening the whole picture.
"""

from __future__ import annotations

import numpy as np


def stretch_to_uint8(array: np.ndarray, *, has_alpha: bool, alpha_max: float) -> np.ndarray:
    """Map colour values from their [min, max] to 0..255; alpha is scaled by its format's maximum.

    Colour channels share one range so colour balance survives; NaN and infinities become 0.
    ``array`` is (height, width) or (height, width, bands). Returns uint8 with 1-4 bands.
    """
    if array.ndim == 2:
        array = array[:, :, None]
    colour = array[:, :, :-1] if has_alpha else array
    if colour.shape[2] > 3:
        colour = colour[:, :, :3]  # multiband data (e.g. 5-channel microscopy): show the first three
    out = _stretch(colour.astype(np.float64))
    if has_alpha:
        alpha = np.clip(array[:, :, -1:].astype(np.float64) * (255.0 / alpha_max), 0, 255)
        out = np.concatenate([out, (alpha + 0.5).astype(np.uint8)], axis=2)
    return out[:, :, 0] if out.shape[2] == 1 else out


def _stretch(colour: np.ndarray) -> np.ndarray:
    finite = np.isfinite(colour)
    if not finite.any():
        return np.zeros(colour.shape, np.uint8)
    low, high = float(colour[finite].min()), float(colour[finite].max())
    if high <= low:
        # A constant image has no range to stretch: show it mid-grey rather than inventing contrast.
        return np.full(colour.shape, 0 if low <= 0 else 128, np.uint8)
    scaled = (colour - low) * (255.0 / (high - low))
    scaled[~finite] = 0
    return (np.clip(scaled, 0, 255) + 0.5).astype(np.uint8)
