"""The list manager: browse, page, filter, inspect, create, change, clear, delete, export."""
