"""Priyom router: what a contact is, who takes it, and by when."""
