"""Ways in that detect without a worker: the embedded replay of files into the store, and the OTLP/HTTP
receiver with its sinks (Kafka or the embedded engine). May import ``kafka``, ``alerts``, ``store``."""
