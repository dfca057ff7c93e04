"""The generic JSON webhook channel: any chat platform or bridge that can POST JSON and receive JSON.

Written on the adapter kit as its proof and its tutorial example (``docs/adapters.md``).
"""
