"""Plugins imbench ships for other libraries' methods; each is loaded only when a
config lists it (``plugins = ["imbench.plugins.smote_variants"]``)."""
