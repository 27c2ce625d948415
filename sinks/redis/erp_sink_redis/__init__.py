"""An ERP event sink that appends domain events to a Redis stream."""
