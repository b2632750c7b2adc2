"""Data services and add-ons: their hosts, provisioning and credentials."""
