"""Rules: the submissions of a batch in, the findings of each out.

In: `Submission`s (pipeline.model) and a profile. `catalogue` compiles schemas/rules.toml into relations over
interval values; `validate` builds the unit, project and indicator frames and runs every rule as a pandera
check; `builtins` holds the checks one relation cannot state, named from the catalogue; `context` the frame
and context types both read; `statements` ties the figures a 自评报告 or a text cell states to table points
(schemas/statements.toml) for the RPT.* and TXT.* rules.
Out: a list of `Finding`s per submission, in catalogue order. Nothing here reads or writes a file.
"""
