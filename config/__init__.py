"""Configuration: the runtime `Settings` and the contract file format."""
