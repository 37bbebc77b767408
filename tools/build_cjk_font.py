"""Build the certificate's CJK fonts (certificate/issuance/fonts/NotoSansCJKsc-*.ttf).

reportlab embeds TrueType-outline (``glyf``) fonts only, and Noto Sans CJK is
published with PostScript (CFF) outlines. This tool takes Noto Sans CJK SC
from Debian's ``fonts-noto-cjk`` package, keeps the blocks a name can use
(Han: the unified ideographs, extension A and the compatibility ideographs;
Hiragana, Katakana, Bopomofo, Hangul syllables and jamo; CJK punctuation and
full-width forms) and converts the outlines to quadratic curves (fontTools'
cu2qu), writing a TrueType font under the same SIL Open Font License.

Run once when the fonts are updated, not at run time:

    apt-get install fonts-noto-cjk
    .venv/bin/python -m tools.build_cjk_font
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable

SOURCE = Path("/usr/share/fonts/opentype/noto")
TARGET = Path(__file__).resolve().parent.parent / "certificate" / "issuance" / "fonts"
#: The member of the collection: Simplified Chinese glyph forms by default.
REGION = "Noto Sans CJK SC"

#: Unicode blocks kept (inclusive ranges).
BLOCKS = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x3000, 0x303F),  # CJK Symbols and Punctuation
    (0x3040, 0x309F),  # Hiragana
    (0x30A0, 0x30FF),  # Katakana
    (0x3100, 0x312F),  # Bopomofo
    (0x3130, 0x318F),  # Hangul Compatibility Jamo
    (0x31A0, 0x31BF),  # Bopomofo Extended
    (0x31F0, 0x31FF),  # Katakana Phonetic Extensions
    (0x3400, 0x4DBF),  # CJK Unified Ideographs Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xA960, 0xA97F),  # Hangul Jamo Extended-A
    (0xAC00, 0xD7AF),  # Hangul Syllables
    (0xD7B0, 0xD7FF),  # Hangul Jamo Extended-B
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0xFF00, 0xFFEF),  # Halfwidth and Fullwidth Forms
)
#: Maximum distance between the cubic and the quadratic curve, in font units.
MAX_ERR = 1.0


def _subset(font: TTFont) -> None:
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[cp for start, stop in BLOCKS for cp in range(start, stop + 1)])
    subsetter.subset(font)


def _to_truetype(font: TTFont) -> None:
    """Replace the CFF table by glyf/loca (quadratic outlines), as fontTools' otf2ttf does."""
    glyph_order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in glyph_order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, MAX_ERR, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = glyph_order
    glyf.glyphs = glyphs
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    glyf.compile(font)
    font["maxp"] = maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    maxp.maxComponentDepth = 0
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = glyph_order
    font["head"].glyphDataFormat = 0
    font["head"].indexToLocFormat = 1
    font.sfntVersion = "\x00\x01\x00\x00"


def build(weight: str) -> Path:
    """Write the TrueType CJK font of ``weight`` ("Regular" or "Bold") and return its path."""
    collection = TTCollection(SOURCE / f"NotoSansCJK-{weight}.ttc")
    font = next(f for f in collection.fonts if f["name"].getDebugName(4).startswith(REGION))
    _subset(font)
    _to_truetype(font)
    target = TARGET / f"NotoSansCJKsc-{weight}.ttf"
    font.save(target)
    return target


def main() -> None:
    """Build the weights named on the command line (both by default)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("weights", nargs="*", default=["Regular", "Bold"])
    for weight in parser.parse_args().weights:
        print(build(weight))


if __name__ == "__main__":
    main()
