"""Billing: customers, invoices and their lines."""
