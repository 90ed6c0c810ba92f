"""The site's pages, one module per kind of thing shown."""
