"""Priyom tickets: every routed contact becomes a numbered ticket that agents work and customers can quote."""
