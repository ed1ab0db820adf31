"""Access opened to the whole internet: network paths, storage, snapshots, functions."""
