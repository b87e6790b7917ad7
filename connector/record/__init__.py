"""Record what the connectors receive and send (``recorder``) and play it back (``replay``)."""
