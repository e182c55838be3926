"""Benchmarks and their baselines: serving throughput against a naive server, the learning
curve of corrections against linear probes, onnx/torch parity, and the load generators.

Bench may import anything; nothing imports bench.
"""
