"""Seed corpus, dataset building, training, evaluation and promotion.

This package never imports `service`.
"""
