"""Priyom portal: the customers' self-service site (the knowledge base, deflection while they type)."""
