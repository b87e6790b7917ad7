"""``OneLine``: one line of plain text that changes often (the touch above the ladder).

A ``Static`` lays its text out again each time it renders (its content is wrapped and measured for the
widget's width), and the touch line renders on every book tick: about a tenth of the time spent composing a
frame went there.  This widget's height is one line and its width the layout's, so a new text never
needs a layout pass: ``update`` repaints the line, and the line's ``Strip`` is built once per text and
width, not once per frame.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget


class OneLine(Widget):
    DEFAULT_CSS = """
    OneLine { height: 1; }
    """

    def __init__(self, text: str = "", *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._text = text
        self._strip: Strip | None = None
        self._strip_for: tuple[int, object] | None = None
        self.strips_built = 0
        """Times the line was laid out anew (a new text, width or style): a test figure."""

    @property
    def text(self) -> str:
        return self._text

    def update(self, text: str) -> None:
        """Show ``text`` (cut at the widget's width); an unchanged text costs nothing."""
        if text == self._text:
            return
        self._text = text
        self._strip = None
        self.refresh()

    def notify_style_update(self) -> None:
        self._strip = None
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        style = self.rich_style
        if y:
            return Strip.blank(width, style)
        key = (width, style)
        if self._strip is None or self._strip_for != key:
            pad = Style(bgcolor=style.bgcolor)  # what a Static pads its text with
            self._strip = Strip([Segment(self._text, style)]).adjust_cell_length(width, pad).crop(0, width)
            self._strip_for = key
            self.strips_built += 1
        return self._strip
