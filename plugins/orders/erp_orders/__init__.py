"""Sales orders: entry from every channel, review, fulfilment, returns, timeline."""
