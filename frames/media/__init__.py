"""The pure media layer of the preview workers: bytes in, browser-readable bytes out.

No Django here. Tasks read a source through the storage layer, call one of these functions and
store the result; everything a caller needs is re-exported from this package:

- ``render_image_preview(source, *, max_size=256, page=0)`` -> ``Preview`` (JPEG, or PNG with alpha)
- ``render_dicom_preview(source, *, max_size=256, page=0)`` -> ``Preview`` (PNG of a DICOM slice; also what
  ``render_image_preview`` answers for a DICOM file)
- ``render_mask_png(source, *, timestamp_ms=None, index=None)`` -> ``Preview`` (lossless PNG, RGBA if the mask
  has alpha)
- ``build_video_index(source)`` -> ``VideoIndex`` (cacheable: ``to_dict`` / ``from_dict``)
- ``render_video_preview(source, *, timestamp_ms, max_size=256, index=None)`` -> ``Preview`` (JPEG, or PNG with
  alpha: VP8/VP9 WebM with transparency)
- ``render_video_previews(source, timestamps_ms, *, max_size=256, index=None)``
  -> iterator of ``(timestamp_ms, Preview | PreviewError)``, one decoding pass
- ``make_pyramid(path, out_dir, *, page=0, sample_size=1280, report=None)`` -> ``Pyramid`` (Deep Zoom tiles of a
  large image written into out_dir, for the viewer to pan and zoom)
- ``PreviewError.reason``: a readable sentence for files that cannot be previewed.
"""

from .common import JPEG, PNG, Preview, PreviewError
from .dicom import render_dicom_preview
from .images import render_image_preview
from .masks import render_mask_png
from .pyramid import Pyramid, make_pyramid
from .video import VideoIndex, build_video_index, render_video_preview, render_video_previews

__all__ = [
    "JPEG",
    "PNG",
    "Preview",
    "PreviewError",
    "Pyramid",
    "VideoIndex",
    "build_video_index",
    "make_pyramid",
    "render_dicom_preview",
    "render_image_preview",
    "render_mask_png",
    "render_video_preview",
    "render_video_previews",
]
