"""Generated gRPC stubs for verbatim.v1 (run `make stubs`)."""
