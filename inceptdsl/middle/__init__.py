"""The middle end's flat modules: evaluating the language (values, evaluate, functions,
param_types, loops, layer_params), a family's members and a variant's errors, and what the IR
says about a network (shapes, cost, details, memory). The packages beside it (check/, ir/,
lower/, optimize/) are the rest of the middle end.
"""
