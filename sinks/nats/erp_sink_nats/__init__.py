"""An ERP event sink that publishes domain events to NATS JetStream."""
