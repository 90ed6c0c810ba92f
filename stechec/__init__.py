"""Stechec2 server side: contest website, master node and worker nodes."""

__version__ = "0.1.0"
