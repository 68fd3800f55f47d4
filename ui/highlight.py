"""Mark where a query matched on a page image, from the text layer's word boxes."""

from PIL import Image, ImageDraw

from rag.core.records import WordBox
from rag.core.text import terms

MARK = (255, 214, 0, 110)  # translucent yellow, like a highlighter pen


def highlight_words(
    image: Image.Image, words: list[WordBox], query: str
) -> tuple[Image.Image, int]:
    """A copy of the page with the words sharing a stem with the query marked; and how many."""
    wanted = terms(query)
    boxes = [w[:4] for w in words if terms(w[4]) & wanted]
    if not boxes:
        return image, 0
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    width, height = image.size
    for x0, y0, x1, y1 in boxes:
        draw.rectangle((x0 * width - 1, y0 * height - 1, x1 * width + 1, y1 * height + 1), MARK)
    marked = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
    return marked, len(boxes)
