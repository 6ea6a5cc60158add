"""The tos.cloud benchmark (not shipped in the collection): see bench/README.md."""
