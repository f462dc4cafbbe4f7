"""Simplified Chinese as a bank writes amounts: grouped in thousands by commas (1,234,567.89), where
Django's zh_Hans leaves them ungrouped; every other format is Django's."""

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
