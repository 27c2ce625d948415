"""Finance: the double-entry books of the seller, kept by the documents that post themselves."""
