"""The redaction's rules one at a time, where the mutation score (tools/mutation.py) found that no
test told a right answer from a wrong one."""
