__version__ = "2014.2.1"
