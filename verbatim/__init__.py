"""verbatim: themes and sentiment for customer-feedback comments, served over gRPC."""
