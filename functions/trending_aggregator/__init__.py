"""Trending aggregator: windowed retail analytics on Lambda tumbling windows."""
