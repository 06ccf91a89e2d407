"""Presentation: renderers of the result objects for people: `text` renders a report as the
terminal table (fitted, with rich styling) and as Markdown, `html` reports and verification
results as a self-contained page and as notebook HTML, `diff` a diff in every format (table,
Markdown, JSON, HTML). (A verification result's one-line text is
`ExpectResult.describe()`, in expect.py.)

A renderer depends on the result objects, never the other way round: a result's `_repr_html_`
or `to_html()` reaches its renderer here only through a deferred import (tests/test_layering.py's
FACADES), and a renderer reads only public names of the results' modules.
"""
