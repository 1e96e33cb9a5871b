"""Library service: the catalog (Postgres), asset records and the audit trail."""
