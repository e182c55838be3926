"""The gRPC server: servicer, micro-batcher, config, interceptors and model slot."""
