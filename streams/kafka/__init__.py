"""Kafka: the faust topology and worker, the kafka-python producer, loader and topic admin, the wire format
and the clients' TLS/SASL settings. May import ``store``, ``alerts`` and ``settings``."""
