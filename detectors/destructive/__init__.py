"""Destructive actions: data, systems or history deleted, dropped, destroyed or overwritten."""
