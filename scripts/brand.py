"""Draw Athena's brand images into custom_components/athena/brand/.

Home Assistant (2026.x, its `brands` component) serves a custom integration's
`brand/` folder at /api/brands/integration/athena/<image>: icon.png (256 x 256),
icon@2x.png (512 x 512), logo.png and logo@2x.png (the icon and the name), and
their dark_ variants for dark themes; a missing one falls back to the next of its
chain (components/brands/const.py `IMAGE_FALLBACKS`). The icon is an owl (Athena's
bird) whose brows make an "A". Run with .venv (Pillow and DejaVu Sans from Debian's
fonts-dejavu-core):
    .venv/bin/python scripts/brand.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent.parent / "custom_components" / "athena" / "brand"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
SCALE = 4  # drawn this much larger, then scaled down: smooth edges

# (background, face, eye, pupil, beak, name) per theme.
THEMES = {
    "": ("#283593", "#3949ab", "#ffffff", "#1a237e", "#ffb300", "#1a237e"),
    "dark_": ("#5c6bc0", "#7986cb", "#ffffff", "#1a237e", "#ffca28", "#e8eaf6"),
}


def icon(size: int, theme: str) -> Image.Image:
    """Draw the owl on a rounded square, `size` pixels wide, in `theme`'s colours."""
    background, face, eye, pupil, beak, _ = THEMES[theme]
    s = size * SCALE
    image = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, s - 1, s - 1), radius=s * 0.22, fill=background)
    # The face: a wide ellipse, and ear tufts.
    draw.ellipse((s * 0.12, s * 0.22, s * 0.88, s * 0.9), fill=face)
    draw.polygon([(s * 0.14, s * 0.1), (s * 0.34, s * 0.3), (s * 0.16, s * 0.42)], face)
    draw.polygon([(s * 0.86, s * 0.1), (s * 0.66, s * 0.3), (s * 0.84, s * 0.42)], face)
    for cx in (0.33, 0.67):
        r = 0.15
        draw.ellipse(
            (s * (cx - r), s * (0.52 - r), s * (cx + r), s * (0.52 + r)), fill=eye
        )
        r = 0.075
        draw.ellipse(
            (s * (cx - r), s * (0.54 - r), s * (cx + r), s * (0.54 + r)), fill=pupil
        )
        r = 0.025
        draw.ellipse(
            (s * (cx + 0.02 - r), s * (0.5 - r), s * (cx + 0.02 + r), s * (0.5 + r)),
            fill=eye,
        )
    # The brows: an "A" without its bar, meeting above the beak.
    width = int(s * 0.075)
    draw.line(
        [(s * 0.17, s * 0.4), (s * 0.5, s * 0.2), (s * 0.83, s * 0.4)],
        fill=eye,
        width=width,
        joint="curve",
    )
    draw.polygon(
        [(s * 0.44, s * 0.66), (s * 0.56, s * 0.66), (s * 0.5, s * 0.78)], beak
    )
    return image.resize((size, size), Image.Resampling.LANCZOS)


def logo(height: int, theme: str) -> Image.Image:
    """Draw the icon and the name "Athena", `height` pixels high."""
    name_colour = THEMES[theme][5]
    mark = icon(height, theme)
    font = ImageFont.truetype(str(FONT), int(height * 0.62 * SCALE))
    text = "Athena"
    left, top, right, bottom = font.getbbox(text)
    gap = height * 0.22
    width = int(height + gap + (right - left) / SCALE + height * 0.05)
    image = Image.new("RGBA", (width * SCALE, height * SCALE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    y = (height * SCALE - (bottom - top)) / 2 - top
    draw.text(((height + gap) * SCALE - left, y), text, font=font, fill=name_colour)
    image = image.resize((width, height), Image.Resampling.LANCZOS)
    image.alpha_composite(mark, (0, 0))
    return image


def main() -> None:
    """Write the eight images."""
    OUT.mkdir(exist_ok=True)
    for theme in THEMES:
        for suffix, factor in (("", 1), ("@2x", 2)):
            icon(256 * factor, theme).save(
                OUT / f"{theme}icon{suffix}.png", optimize=True
            )
            logo(128 * factor, theme).save(
                OUT / f"{theme}logo{suffix}.png", optimize=True
            )


if __name__ == "__main__":
    main()
