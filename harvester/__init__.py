"""harvester: clean aggregator copies of news articles and recover their source."""

__version__ = "0.1.0"
