"""A GoldTicket Fabric network of native processes on 127.0.0.1: one place for the logic behind
``make network-up``, ``network-down``, ``network-clean`` and ``network-status``.

The crypto material comes from GoldTicket's own organisation CAs (the data directory's
``msp/``), so a member's card certificate works on the embedded ledger and on this network.
"""
