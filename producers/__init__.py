"""Producers: one poller module per ISO, the fetch layer, and the Kinesis publisher."""
