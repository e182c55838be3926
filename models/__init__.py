"""What a model is: encoder + heads, predict(), artifacts and the registry.

This package never imports grpc or the generated stubs.
"""
