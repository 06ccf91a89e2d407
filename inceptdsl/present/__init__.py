"""Presentation: renderers of the result objects (reports, verification results, diffs) for
people: `html` renders them as a self-contained page and as notebook HTML.

A renderer depends on the result objects, never the other way round: a result's `_repr_html_`
or `to_html()` reaches its renderer here only through a deferred import (tests/test_layering.py's
FACADES), and a renderer reads only public names of the results' modules.
"""
