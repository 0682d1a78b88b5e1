"""The data plane: dataset catalog, replicas, node-local caches and staging through fsspec."""
