"""Lines of each bundled zoo spec against the lines of the reference code it reproduces.

Issue 19 asks that a spec be no longer than the reference's own constructor code for the same
network: a spec language that is longer than the Python it replaces has no point. What is
counted, on both sides, is code: no blank lines, no comments, no docstrings.

- Spec: the spec file and every spec file it imports (transitively, each once), whole: the
  library blocks count even where the spec uses only some of them. `expect` statements (with
  their continuation lines) are not counted: they are checks of the figures, and the
  reference's counterpart, its tests, is not counted either.
- Reference: `inspect.getsource` of the classes and builder functions in the reference
  model's own module that build the network (REFERENCES below: the model's classes, its
  configuration helpers, its `_model` factory and the member builders). Shared framework
  layers (`nn.Conv2d`, torchvision.ops' `Conv2dNormActivation`, `SqueezeExcitation`, timm's
  `ConvNormAct`, Keras layers) are not counted, as the language's built-in layers are not.
  Weight enums, preprocessing and `decode_predictions` are not construction code.

Usage: `python tools/spec_lines.py` prints the table (Markdown); tests/test_spec_lines.py
fails when a spec becomes longer than its reference.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import io
import re
import sys
import textwrap
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"

_TV = "torchvision.models."
_EFFICIENTNET = ["_MBConvConfig", "MBConvConfig", "MBConv", "EfficientNet", "_efficientnet"]
_EFFICIENTNET += ["_efficientnet_conf"]
_REGNET = ["SimpleStemIN", "BottleneckTransform", "ResBottleneckBlock", "AnyStage"]
_REGNET += ["BlockParams", "RegNet", "_regnet"]
_INCEPTION3 = ["BasicConv2d", "InceptionA", "InceptionB", "InceptionC", "InceptionD"]
_INCEPTION3 += ["InceptionE", "InceptionAux", "Inception3", "inception_v3"]

REFERENCES: dict[str, tuple[str, list[str]]] = {
    "cnn/alexnet": (_TV + "alexnet", ["AlexNet", "alexnet"]),
    "cnn/vgg16": (_TV + "vgg", ["VGG", "make_layers", "cfgs", "_vgg", "vgg16"]),
    "cnn/resnet18": (
        _TV + "resnet",
        ["conv3x3", "conv1x1", "BasicBlock", "ResNet", "_resnet", "resnet18"],
    ),
    "cnn/efficientnet_b0": (_TV + "efficientnet", [*_EFFICIENTNET, "efficientnet_b0"]),
    "cnn/shufflenet_v2_x1_0": (
        _TV + "shufflenetv2",
        ["channel_shuffle", "InvertedResidual", "ShuffleNetV2", "_shufflenetv2"]
        + ["shufflenet_v2_x1_0"],
    ),
    "googlenet": (
        _TV + "googlenet",
        ["GoogLeNet", "Inception", "InceptionAux", "BasicConv2d", "googlenet"],
    ),
    "inception_v3": (_TV + "inception", _INCEPTION3),
    "efficientnet": (
        _TV + "efficientnet",
        _EFFICIENTNET + [f"efficientnet_b{i}" for i in range(8)],
    ),
    "regnet": (
        _TV + "regnet",
        _REGNET
        + [f"regnet_{m}" for m in ("y_400mf", "y_800mf", "y_1_6gf", "y_3_2gf")]
        + [f"regnet_{m}" for m in ("y_8gf", "x_400mf", "x_800mf")],
    ),
    "convnext": (
        _TV + "convnext",
        ["LayerNorm2d", "CNBlock", "CNBlockConfig", "ConvNeXt", "_convnext"]
        + ["convnext_tiny", "convnext_small"],
    ),
    "inception_v4": (
        "timm.models.inception_v4",
        ["Mixed3a", "Mixed4a", "Mixed5a", "InceptionA", "ReductionA", "InceptionB"]
        + ["ReductionB", "InceptionC", "InceptionV4", "_create_inception_v4", "inception_v4"],
    ),
    "inception_resnet_v2": (
        "timm.models.inception_resnet_v2",
        ["Mixed_5b", "Block35", "Mixed_6a", "Block17", "Mixed_7a", "Block8"]
        + ["InceptionResnetV2", "_create_inception_resnet_v2", "inception_resnet_v2"],
    ),
    "inception_next_tiny": (
        "timm.models.inception_next",
        ["InceptionDWConv2d", "ConvMlp", "MlpClassifierHead", "MetaNeXtBlock"]
        + ["MetaNeXtStage", "MetaNeXt", "_create_inception_next", "inception_next_tiny"],
    ),
    "keras/inception_v3": (
        "keras.src.applications.inception_v3",
        ["InceptionV3", "conv2d_bn"],
    ),
    "keras/xception": ("keras.src.applications.xception", ["Xception"]),
    "keras/inception_resnet_v2": (
        "keras.src.applications.inception_resnet_v2",
        ["InceptionResNetV2", "conv2d_bn", "CustomScaleLayer", "inception_resnet_block"],
    ),
}
"""Spec (path under specs/, no suffix) -> (reference module, the objects that build it)."""

NO_REFERENCE = {
    "bn_inception": "pretrainedmodels' port of a Caffe model (not a dependency)",
    "inception_v1_slim": "TF-slim (not a dependency)",
    "googlenet_paper": "the paper only",
    "inception_v3_paper": "the paper only",
    "inception_resnet_v1": "the paper only",
}
"""Bundled specs without reference code to count here, and why."""

_IMPORT = re.compile(r'^\s*import\s+"([^"]+)"')


def _strip_comment(line: str) -> str:
    """The line without its comment (a `#` outside a string)."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted:
            return line[:i]
    return line


def spec_files(path: Path) -> list[Path]:
    """The spec file and every file it imports, transitively, each once, in import order."""
    seen: list[Path] = []

    def visit(p: Path) -> None:
        p = p.resolve()
        if p in seen:
            return
        seen.append(p)
        for line in p.read_text(encoding="utf-8").splitlines():
            m = _IMPORT.match(line)
            if m:
                visit(p.parent / m.group(1))

    visit(path)
    return seen


def spec_code_lines(text: str) -> int:
    """Lines of spec code: not blank, not comments, not `expect` statements (an `expect` line
    and the lines after it that are indented deeper)."""
    count, expect_indent = 0, None
    for raw in text.splitlines():
        line = _strip_comment(raw).rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if expect_indent is not None and indent > expect_indent:
            continue
        expect_indent = None
        if line.lstrip().startswith("expect "):
            expect_indent = indent
            continue
        count += 1
    return count


def spec_lines(spec: str) -> int:
    """spec_code_lines over the spec and its imports."""
    files = spec_files(SPECS / f"{spec}.incept")
    return sum(spec_code_lines(p.read_text(encoding="utf-8")) for p in files)


def python_code_lines(source: str) -> int:
    """Lines of Python code: not blank, not comments, not docstrings."""
    source = textwrap.dedent(source)
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                docstrings.update(range(body[0].lineno, (body[0].end_lineno or 0) + 1))
    code: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT):
            continue
        if tok.type in (tokenize.DEDENT, tokenize.ENDMARKER):
            continue
        code.update(range(tok.start[0], tok.end[0] + 1))
    return len(code - docstrings)


def reference_lines(spec: str) -> int:
    """python_code_lines over the reference objects of `spec` (their source as the installed
    package has it)."""
    module, names = REFERENCES[spec]
    mod = importlib.import_module(module)
    total = 0
    for name in names:
        obj = getattr(mod, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            total += python_code_lines(inspect.getsource(obj))
        else:  # a module-level table (vgg's cfgs): its assignment statement
            total += _assignment_lines(inspect.getsource(mod), name)
    return total


def _assignment_lines(source: str, name: str) -> int:
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            lines = source.splitlines()[node.lineno - 1 : node.end_lineno]
            return python_code_lines("\n".join(lines))
    raise LookupError(f"no assignment to {name}")


def table() -> list[tuple[str, int, int | None, str]]:
    """(spec, spec lines, reference lines or None, reference or why there is none)."""
    rows: list[tuple[str, int, int | None, str]] = []
    for spec in sorted([*REFERENCES, *NO_REFERENCE]):
        if spec in REFERENCES:
            module, _ = REFERENCES[spec]
            rows.append((spec, spec_lines(spec), reference_lines(spec), module))
        else:
            rows.append((spec, spec_lines(spec), None, NO_REFERENCE[spec]))
    return rows


def main() -> int:
    print("| spec | spec lines | reference lines | reference |")
    print("|---|---:|---:|---|")
    for spec, ours, theirs, ref in table():
        print(f"| {spec} | {ours} | {'-' if theirs is None else theirs} | {ref} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
