"""Which tier each test file belongs to (pytest markers, applied by conftest.py).

Tiers, cheapest first (docs/contributing.md, "Test tiers"):

- ``core``: the framework-free core (parser, checks, lowering, costs, reports, CLI, LSP,
  goldens of emitted source); no torch, TensorFlow or ONNX is imported. The fast tier.
- ``slow``: framework-free but slow: the hostile CLI sandbox (one interpreter per case), the
  hypothesis property tests.
- ``backend``: builds framework models (torch, Keras, ONNX) of small and bundled specs, and
  the wheel (installed and compiled with torch).
- ``fidelity``: compares compiled models with the reference implementations (torchvision,
  timm, keras.applications), cross-framework transfers, training.
- ``browser``: drives Chromium (or Neovim: the editor setup) or serves through Netron.

A test inside a ``core`` file that needs a framework carries its own marker
(``@pytest.mark.backend``); tests/test_tiers.py checks that no ``core`` or ``slow`` file
imports a framework outside such a test, and that every test file is listed here.
"""

from __future__ import annotations

TIERS = ("core", "slow", "backend", "fidelity", "browser")

_BY_TIER: dict[str, tuple[str, ...]] = {
    "core": (
        "test_api.py",
        "test_backend_base.py",
        "test_backend_emit_frameworkless.py",
        "test_backend_keras_golden.py",
        "test_backend_keras_layout.py",
        "test_backend_torch_golden.py",
        "test_backend_torch_layout.py",
        "test_braces.py",
        "test_cli.py",
        "test_completeness.py",
        "test_core_isolation.py",
        "test_cost.py",
        "test_deploy_calibration.py",
        "test_details.py",
        "test_diagnostics.py",
        "test_diff.py",
        "test_families.py",
        "test_docs_errors.py",
        "test_draw.py",
        "test_editors.py",
        "test_edits.py",
        "test_errors.py",
        "test_expect.py",
        "test_fmt.py",
        "test_hints.py",
        "test_lang_functions.py",
        "test_lang_layer_params.py",
        "test_lang_loops.py",
        "test_lang_values.py",
        "test_layering.py",
        "test_lower.py",
        "test_lsp.py",
        "test_lsp_protocol.py",
        "test_lsp_reads.py",
        "test_notebook.py",
        "test_op_traits.py",
        "test_optimize.py",
        "test_output.py",
        "test_output_origin.py",
        "test_parser_tables.py",
        "test_report.py",
        "test_roots.py",
        "test_shapes.py",
        "test_search.py",
        "test_sweep.py",
        "test_sweep_memo.py",
        "test_test_command.py",
        "test_terminal_width.py",
        "test_tiers.py",
        "test_toy_op.py",
        "test_typed_access.py",
        "test_variant_errors.py",
        "test_variants.py",
        "test_verification.py",
    ),
    "slow": (
        "test_hostile.py",
        "test_hostile_importers.py",
        "test_import_caffe_hostile.py",
        "test_hostile_outputs.py",
        "test_collection.py",
        "test_limits.py",
        "test_lsp_fuzz.py",
        "test_properties_hostile.py",
        "test_properties_parse.py",
        "test_properties_shapes.py",
        "test_search_workers.py",
    ),
    "backend": (
        "test_backend_keras.py",
        "test_backend_keras_order.py",
        "test_backend_keras_semantics.py",
        "test_backend_keras_specs.py",
        "test_backend_onnx.py",
        "test_backend_torch.py",
        "test_backend_torch_compile.py",
        "test_backend_helpers_source.py",
        "test_backend_torch_init.py",
        "test_backend_torch_modules.py",
        "test_backend_torch_semantics.py",
        "test_backend_torch_specs.py",
        "test_backend_transfer.py",
        "test_deploy_maxpool_pad.py",
        "test_deploy_report.py",
        "test_deploy_targets.py",
        "test_import_caffe.py",
        "test_import_caffe_ops.py",
        "test_import_hostile.py",
        "test_import_onnx.py",
        "test_import_onnx_hostile.py",
        "test_memory.py",
        "test_ops_backends.py",
        "test_ops_semantics.py",
        "test_sweep_latency.py",
        "test_registry.py",
        "test_search_digits.py",
        "test_spec_lines.py",
        "test_weights_file_hostile.py",
        "test_wheel.py",
    ),
    "fidelity": (
        "test_cross_framework.py",
        "test_deploy_int8.py",
        "test_fidelity_cnn.py",
        "test_fidelity_efficientnet.py",
        "test_fidelity_convnext.py",
        "test_fidelity_convnext_rates.py",
        "test_fidelity_regnet.py",
        "test_fidelity_keras.py",
        "test_fidelity_torch.py",
        "test_fidelity_zoo.py",
        "test_import_torch.py",
        "test_import_torch_ops.py",
        "test_import_readable.py",
        "test_import_docs.py",
        "test_import_torch_zoo.py",
        "test_import_caffe_resnet.py",
        "test_import_caffe_inception.py",
        "test_import_onnx_torch.py",
        "test_optimize_fidelity.py",
        "test_optimize_layer_scale.py",
        "test_optimize_path.py",
        "test_shapes_vs_torch.py",
        "test_train_distributed.py",
    ),
    "browser": (
        "test_draw_browser.py",
        "test_editors_nvim.py",
        "test_editors_vscode.py",
        "test_sweep_browser.py",
        "test_view.py",
    ),
}

TIER_OF: dict[str, str] = {f: tier for tier, files in _BY_TIER.items() for f in files}
"""Test file name (tests/ and its subfolders) -> its tier."""

FRAMEWORKS = ("torch", "torchvision", "timm", "tensorflow", "keras", "onnx", "onnxruntime")
"""Top-level modules a ``core`` or ``slow`` file may not import outside a marked test."""
