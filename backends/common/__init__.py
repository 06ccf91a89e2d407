"""Framework-free pieces the backends share: statement scheduling, ruff-exact line layout and
the weight map (every torch state_dict key of a graph, used by the keras and onnx backends).

They live apart from backends/torch and backends/keras because importing either package
imports its framework; these modules import neither.
"""
