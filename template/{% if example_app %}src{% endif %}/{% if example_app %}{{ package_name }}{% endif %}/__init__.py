"""An order service: users, orders paid through an external payment API, cached profiles."""
