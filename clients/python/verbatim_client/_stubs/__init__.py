"""The gRPC stubs generated from the repository's proto/ at build time (never committed).

They are the server's `verbatim.v1` stubs with their one absolute import rewritten to point
here, so this distribution installs nothing into the server's `verbatim` package. Both copies
register the same file in protobuf's default pool; identical files are accepted twice.
"""
