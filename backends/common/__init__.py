"""Framework-free pieces the backends share: statement scheduling and ruff-exact line layout.

They live apart from backends/torch and backends/keras because importing either package
imports its framework; these modules import neither.
"""
