"""The desk hub: one process ingests every source once and fans the model events out to
every terminal through Redis (:mod:`feeds.hub.publish`, :mod:`feeds.hub.subscribe`), in
a strict wire format (:mod:`feeds.hub.codec`)."""
