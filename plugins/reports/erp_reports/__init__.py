"""Reports: metrics defined by the plugins that own the data, compiled into queries."""
