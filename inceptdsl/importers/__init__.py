"""Importers: an existing model (a PyTorch module, a Caffe prototxt) -> a readable .incept spec.

Both importers produce the same framework-free layer graph (`model.LayerGraph`): layers in
the language's own terms, each with the scope (module or name prefix) it came from. The rest
is shared and lives here: fusing conv/bn/act units (`fuse`), recovering structure, blocks and
defaults (`structure`, `blocks`), and printing canonical spec text (`writer`). The torch part
(tracing a live module) belongs to the torch backend plugin and is reached through the
backend registry; the Caffe importer needs no framework and lives here (`caffe`).
"""

from __future__ import annotations

from .model import AuxHead, Layer, LayerGraph, Rec, Scope, Size, Sym

__all__ = ["AuxHead", "Layer", "LayerGraph", "Rec", "Scope", "Size", "Sym"]
