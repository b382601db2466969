"""Hidden checks: check files named by an exercise's ``hidden_checks`` in exercises.yaml.

Their checks are run and scored like the others, in the same sandbox sessions (a hidden
checks file has no ``plan``: its checks read the calls of the plan of the exercise's
``checks`` file), but students never see their names, messages, output or timelines:
only how many failed and the points they cost (``grade --teacher`` shows everything).
``grade export`` leaves these files out of the students' copy.
"""
