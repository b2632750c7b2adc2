"""The one throttle: requests counted per scope and key in the database, shared by every process."""
