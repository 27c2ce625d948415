"""An ERP event sink that publishes domain events to a RabbitMQ topic exchange."""
