"""The front end: spec text -> checked-for-syntax AST -> loaded program.

source (text and spans), read and roots (files and import roots), parse (Lark, grammar.lark,
parser_tables.json), ast and transform (the typed tree), loader (imports resolved), and lexer
(syntax highlighting's rules from the same grammar; highlight.py registers the lexer). The later
stages live beside this folder.
"""
