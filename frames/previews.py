"""Preview rendering entry points (see ``frames.media`` for the implementation).

Kept as the module the design names (``frames/previews.py``); the work is split by medium under
``frames/media/`` (images, TIFF structure, video, masks) so no file knows everything.
"""

from frames.media import (  # noqa: F401 - re-exported API
    JPEG,
    PNG,
    Preview,
    PreviewError,
    VideoIndex,
    build_video_index,
    render_image_preview,
    render_mask_png,
    render_video_preview,
    render_video_previews,
)

__all__ = [
    "JPEG",
    "PNG",
    "Preview",
    "PreviewError",
    "VideoIndex",
    "build_video_index",
    "render_image_preview",
    "render_mask_png",
    "render_video_preview",
    "render_video_previews",
]
