"""Synthetic media for the demo dataset: street scenes drawn with Pillow, their segmentation masks, a
multi-page TIFF and a short H.264 video. Everything is deterministic (seeded), so the files and the
annotations computed alongside them always agree.

Each drawing function returns what it drew as `Shape`s (label list, polygon, confidence, meta); frames/demo.py
turns those into ClearML ROIs.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFilter

# Cityscapes-like palette for the masks; the version metadata maps these RGB values to labels.
MASK_COLOURS = {
    "sky": (70, 130, 180),
    "building": (70, 70, 70),
    "road": (128, 64, 128),
    "sidewalk": (244, 35, 232),
    "car": (0, 0, 142),
    "person": (220, 20, 60),
    "traffic sign": (220, 220, 0),
}

SKIES = {
    "sunny": ((92, 156, 230), (196, 224, 250)),
    "cloudy": ((140, 150, 162), (212, 217, 222)),
    "rain": ((84, 94, 108), (140, 150, 162)),
    "fog": ((188, 192, 198), (226, 228, 231)),
    "night": ((10, 18, 44), (38, 52, 92)),
}
CAR_COLOURS = {
    "red": (196, 40, 40),
    "blue": (38, 84, 170),
    "white": (230, 232, 235),
    "black": (32, 34, 38),
    "silver": (160, 166, 172),
    "yellow": (232, 186, 40),
    "green": (46, 130, 84),
}
CLOTHES = [(52, 92, 160), (150, 48, 60), (60, 60, 66), (212, 160, 60), (70, 130, 90), (120, 80, 150)]


@dataclass
class Shape:
    labels: list[str]
    poly: list[int]
    confidence: float = 1.0
    meta: dict = field(default_factory=dict)
    shape: dict | None = None  # the ROI's `shape` (box, ellipse) beside its poly


@dataclass
class SceneSpec:
    """What to draw. Positions are fractions so one spec draws at any size."""

    seed: int
    weather: str = "sunny"
    cars: list[dict] = field(default_factory=list)  # {"lane": -1..1 across the road, "depth": 0..1 (1 = near), "colour"}
    people: list[dict] = field(default_factory=list)  # {"x": 0..1, "depth": 0..1, "side": "left"|"right"}
    signs: list[dict] = field(default_factory=list)  # {"x": 0..1, "kind": "stop"|"yield"|"speed", "depth"}


def box(x0, y0, x1, y1):
    """A box as ClearML stores it: a 4-point polygon."""
    return [round(x0), round(y0), round(x1), round(y0), round(x1), round(y1), round(x0), round(y1)]


def _flat(points):
    return [round(v) for point in points for v in point]


def _mix(a, b, t):
    return tuple(round(a[i] + (b[i] - a[i]) * t) for i in range(3))


class _Canvas:
    """Draws each element on the picture and, in its label's flat colour, on the mask."""

    def __init__(self, width, height, with_mask):
        self.width, self.height = width, height
        self.image = Image.new("RGB", (width, height))
        self.draw = ImageDraw.Draw(self.image)
        self.mask = Image.new("RGB", (width, height), MASK_COLOURS["sky"]) if with_mask else None
        self.mask_draw = ImageDraw.Draw(self.mask) if with_mask else None

    def polygon(self, points, fill, label=None, outline=None):
        self.draw.polygon(points, fill=fill, outline=outline)
        if label and self.mask_draw:
            self.mask_draw.polygon(points, fill=MASK_COLOURS[label])

    def rectangle(self, xy, fill, label=None, outline=None, width=1):
        self.draw.rectangle(xy, fill=fill, outline=outline, width=width)
        if label and self.mask_draw:
            self.mask_draw.rectangle(xy, fill=MASK_COLOURS[label])

    def ellipse(self, xy, fill, label=None):
        self.draw.ellipse(xy, fill=fill)
        if label and self.mask_draw:
            self.mask_draw.ellipse(xy, fill=MASK_COLOURS[label])


def draw_scene(spec: SceneSpec, width=640, height=400, with_mask=True):
    """Returns (image, mask or None, shapes)."""
    rng = random.Random(spec.seed)
    canvas = _Canvas(width, height, with_mask)
    horizon = round(height * 0.42)
    night = spec.weather == "night"
    shapes: list[Shape] = []

    top, bottom = SKIES[spec.weather]
    for y in range(horizon):
        canvas.draw.line([(0, y), (width, y)], fill=_mix(top, bottom, y / max(1, horizon - 1)))
    if spec.weather == "sunny":
        cx, cy, r = width * rng.uniform(0.65, 0.9), horizon * 0.28, height * 0.05
        canvas.draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 236, 160))
    elif night:
        cx, cy, r = width * 0.15, horizon * 0.25, height * 0.035
        canvas.draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(236, 236, 220))
    elif spec.weather in ("cloudy", "rain"):
        for _ in range(5):
            cx, cy = rng.uniform(0, width), rng.uniform(0.1, 0.6) * horizon
            for k in range(4):
                r = height * rng.uniform(0.03, 0.06)
                ox = cx + k * r * 0.9
                grey = 235 if spec.weather == "cloudy" else 170
                canvas.draw.ellipse((ox - r, cy - r, ox + r, cy + r * 0.7), fill=(grey, grey, grey + 4))

    # Buildings along the horizon.
    x = -rng.randint(0, 30)
    while x < width:
        w = rng.randint(round(width * 0.06), round(width * 0.14))
        h = rng.randint(round(height * 0.10), round(height * 0.33))
        shade = rng.randint(90, 170) if not night else rng.randint(30, 60)
        colour = (shade, shade - rng.randint(0, 20), shade - rng.randint(0, 35))
        canvas.rectangle((x, horizon - h, x + w, horizon), fill=colour, label="building")
        for wy in range(horizon - h + 6, horizon - 8, 12):
            for wx in range(x + 5, x + w - 6, 10):
                lit = night and rng.random() < 0.45
                canvas.draw.rectangle((wx, wy, wx + 4, wy + 6), fill=(250, 214, 120) if lit else _mix(colour, (20, 24, 30), 0.45))
        x += w + rng.randint(0, 8)

    # Ground: sidewalks, then the road in perspective.
    vanish_x = width / 2
    road_top_half, road_bottom_half = width * 0.05, width * 0.37
    sidewalk = (150, 146, 140) if not night else (58, 58, 62)
    canvas.rectangle((0, horizon, width, height), fill=sidewalk, label="sidewalk")
    road = [
        (vanish_x - road_top_half, horizon),
        (vanish_x + road_top_half, horizon),
        (vanish_x + road_bottom_half, height),
        (vanish_x - road_bottom_half, height),
    ]
    asphalt = (84, 86, 90) if not night else (36, 37, 42)
    canvas.polygon(road, fill=asphalt, label="road")
    shapes.append(Shape(["road"], _flat(road), 1.0, {"surface": "asphalt"}))
    # Dashed centre line, dashes growing towards the viewer.
    y = horizon + 4
    while y < height:
        t = (y - horizon) / (height - horizon)
        length = 4 + 26 * t
        half = 1 + 4 * t
        y1 = min(height, y + length)
        canvas.draw.polygon([(vanish_x - half, y), (vanish_x + half, y), (vanish_x + half, y1), (vanish_x - half, y1)], fill=(236, 220, 120))
        y = y1 + 6 + 18 * t

    def ground_y(depth):
        return horizon + (height - horizon) * (0.15 + 0.8 * depth)

    def scale(depth):
        return (0.25 + 0.95 * depth) * width / 640

    items = [("sign", s) for s in spec.signs] + [("person", p) for p in spec.people] + [("car", c) for c in spec.cars]
    items.sort(key=lambda item: item[1].get("depth", 0.5))  # far first, near on top
    for kind, item in items:
        depth = item.get("depth", 0.5)
        y, s = ground_y(depth), scale(depth)
        cx = item["x"] * width
        if kind == "car":
            # Cars stand in a lane: x is -1..1 across the road's width at their depth.
            half = road_top_half + (road_bottom_half - road_top_half) * (y - horizon) / (height - horizon)
            cx = vanish_x + item["lane"] * half
            shapes.append(_draw_car(canvas, cx, y, s, item, night))
        elif kind == "person":
            shapes.append(_draw_person(canvas, cx, y, s, rng))
        else:
            shapes.append(_draw_sign(canvas, cx, y, s, item))

    if spec.weather == "rain":
        for _ in range(260):
            rx, ry = rng.uniform(0, width), rng.uniform(0, height)
            canvas.draw.line([(rx, ry), (rx - 3, ry + 12)], fill=(190, 198, 210), width=1)
    if spec.weather == "fog":
        haze = Image.new("RGB", (width, height), (222, 224, 228))
        canvas.image = Image.blend(canvas.image, haze, 0.35)
    image = canvas.image.filter(ImageFilter.SMOOTH) if width >= 400 else canvas.image
    return image, canvas.mask, shapes


def _draw_car(canvas, cx, ground, s, item, night):
    colour_name = item.get("colour", "red")
    colour = CAR_COLOURS[colour_name]
    w, h = 150 * s, 46 * s
    x0, x1 = cx - w / 2, cx + w / 2
    body_top = ground - h - 10 * s
    roof_top = body_top - 34 * s
    cabin = [(x0 + 22 * s, body_top), (x0 + 38 * s, roof_top), (x1 - 38 * s, roof_top), (x1 - 22 * s, body_top)]
    canvas.polygon(cabin, fill=_mix(colour, (0, 0, 0), 0.15), label="car")
    window = [(x0 + 30 * s, body_top - 2 * s), (x0 + 42 * s, roof_top + 6 * s), (x1 - 42 * s, roof_top + 6 * s), (x1 - 30 * s, body_top - 2 * s)]
    canvas.draw.polygon(window, fill=(60, 76, 96) if not night else (20, 24, 34))
    canvas.rectangle((x0, body_top, x1, ground - 10 * s), fill=colour, label="car")
    for wx in (x0 + 14 * s, x1 - 40 * s):
        canvas.rectangle((wx, ground - 14 * s, wx + 26 * s, ground), fill=(18, 18, 20), label="car")
    light = (255, 60, 50) if not night else (255, 110, 90)
    canvas.draw.rectangle((x0 + 6 * s, body_top + 8 * s, x0 + 26 * s, body_top + 18 * s), fill=light)
    canvas.draw.rectangle((x1 - 26 * s, body_top + 8 * s, x1 - 6 * s, body_top + 18 * s), fill=light)
    canvas.draw.rectangle((cx - 18 * s, body_top + 22 * s, cx + 18 * s, body_top + 32 * s), fill=(236, 236, 236))
    labels = ["car"] + list(item.get("extra_labels", []))
    meta = {"colour": colour_name, "occluded": bool(item.get("occluded", False))}
    xywh = [round(x0), round(roof_top), round(x1) - round(x0), round(ground) - round(roof_top)]
    return Shape(labels, box(x0, roof_top, x1, ground), item.get("confidence", 0.95), meta, {"type": "box", "xywh": xywh})


def _draw_person(canvas, cx, ground, s, rng):
    hgt = 120 * s
    head_r = 9 * s
    shirt = CLOTHES[rng.randrange(len(CLOTHES))]
    trousers = (44, 48, 60)
    skin = rng.choice([(238, 200, 170), (196, 146, 110), (130, 90, 64)])
    top = ground - hgt
    shoulder, hip = top + 2.6 * head_r, top + hgt * 0.55
    stride = 7 * s * rng.choice([-1, 1])
    body = [
        (cx - 11 * s, shoulder), (cx + 11 * s, shoulder), (cx + 13 * s, hip),
        (cx + 4 * s + stride, ground), (cx + 0 * s, ground - 4 * s), (cx - 4 * s, hip + 8 * s),
        (cx - 6 * s - stride, ground), (cx - 11 * s - stride, ground), (cx - 13 * s, hip),
    ]
    canvas.polygon(body[3:] + body[:1], fill=trousers, label="person")
    canvas.polygon([(cx - 11 * s, shoulder), (cx + 11 * s, shoulder), (cx + 13 * s, hip), (cx - 13 * s, hip)], fill=shirt, label="person")
    canvas.ellipse((cx - head_r, top, cx + head_r, top + 2 * head_r), fill=skin, label="person")
    # Outline for the annotation: an octagon for the head on top of the body polygon.
    head = [(cx + head_r * math.cos(a), top + head_r + head_r * math.sin(a)) for a in [math.pi * (1 + k / 4) for k in range(5)]]
    outline = [(cx - 11 * s, shoulder)] + head + [(cx + 11 * s, shoulder)] + body[2:]
    return Shape(["person"], _flat(outline), round(rng.uniform(0.7, 0.99), 2), {"pose": "walking"})


def _draw_sign(canvas, cx, ground, s, item):
    kind = item.get("kind", "stop")
    pole_top = ground - 140 * s
    canvas.rectangle((cx - 2.5 * s, pole_top, cx + 2.5 * s, ground), fill=(120, 124, 130), label="traffic sign")
    r = 26 * s
    cy = pole_top
    if kind == "stop":
        points = [(cx + r * math.cos(math.pi / 8 + k * math.pi / 4), cy + r * math.sin(math.pi / 8 + k * math.pi / 4)) for k in range(8)]
        canvas.polygon(points, fill=(200, 30, 36), label="traffic sign", outline=(250, 250, 250))
        canvas.draw.rectangle((cx - r * 0.6, cy - r * 0.15, cx + r * 0.6, cy + r * 0.15), fill=(250, 250, 250))
    elif kind == "yield":
        points = [(cx - r, cy - r * 0.8), (cx + r, cy - r * 0.8), (cx, cy + r)]
        canvas.polygon(points, fill=(200, 30, 36), label="traffic sign")
        inner = [(cx - r * 0.6, cy - r * 0.55), (cx + r * 0.6, cy - r * 0.55), (cx, cy + r * 0.5)]
        canvas.draw.polygon(inner, fill=(250, 250, 250))
    else:
        points = [(cx + r * math.cos(k * math.pi / 8), cy + r * math.sin(k * math.pi / 8)) for k in range(16)]
        canvas.polygon(points, fill=(200, 30, 36), label="traffic sign")
        inner = 0.75 * r
        canvas.draw.ellipse((cx - inner, cy - inner, cx + inner, cy + inner), fill=(250, 250, 250))
        canvas.draw.text((cx, cy), str(item.get("limit", 50)), fill=(20, 20, 20), anchor="mm", font_size=max(8, round(18 * s)))
    labels = ["traffic sign", {"stop": "stop", "yield": "yield"}.get(kind, "speed limit")]
    meta = {"kind": kind} | ({"limit": item.get("limit", 50)} if kind == "speed" else {})
    circle = {"type": "ellipse", "xyrrt": [round(cx, 2), round(cy, 2), round(r, 2), round(r, 2), 0]} if kind == "speed" else None
    return Shape(labels, _flat(points), item.get("confidence", 0.9), meta, circle)


def random_scene(seed, weather):
    """A street with 1-3 cars, 0-3 people and 0-2 signs."""
    rng = random.Random(seed * 7919)
    colours = list(CAR_COLOURS)
    cars = []
    for lane in rng.sample([-0.5, 0.5, -0.45, 0.55, 0.0], rng.randint(1, 3)):
        cars.append({"x": 0.5, "lane": lane, "depth": rng.uniform(0.15, 0.85), "colour": rng.choice(colours),
                     "confidence": round(rng.uniform(0.62, 0.99), 2)})
    people = [{"x": rng.choice([rng.uniform(0.03, 0.11), rng.uniform(0.89, 0.97)]), "depth": rng.uniform(0.2, 0.9)}
              for _ in range(rng.randint(0, 3))]
    signs = [{"x": rng.choice([0.06, 0.94]), "depth": rng.uniform(0.1, 0.6), "kind": rng.choice(["stop", "yield", "speed"]),
              "limit": rng.choice([30, 50, 70]), "confidence": round(rng.uniform(0.75, 0.99), 2)}
             for _ in range(rng.randint(0, 2))]
    return SceneSpec(seed=seed, weather=weather, cars=cars, people=people, signs=signs)


def save_multipage_tiff(path, pages):
    """pages: list of PIL images; written as one multi-page TIFF (deflate-compressed)."""
    first, rest = pages[0], pages[1:]
    first.save(path, format="TIFF", save_all=True, append_images=rest, compression="tiff_adobe_deflate")


def write_video(path, width, height, fps, frames):
    """frames: iterable of PIL images; H.264 (libx264, yuv420p) in MP4, a key frame every second."""
    import av

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = fps
        stream.options = {"preset": "veryfast", "crf": "23"}
        for image in frames:
            frame = av.VideoFrame.from_image(image)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
