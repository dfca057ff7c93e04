"""Priyom identity: who is contacting us. Every contact is matched to a client card, or gets a new one."""
